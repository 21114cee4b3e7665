import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { lenet5, lenet5Original } from './lenet';

const FAMILY = { lenet5, lenet5Original };

describe('LeNet-5', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);
});
