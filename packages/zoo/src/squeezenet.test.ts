import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { squeezenet1_0, squeezenet1_1 } from './squeezenet';

const FAMILY = { squeezenet1_0, squeezenet1_1 };

describe('SqueezeNet', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);
});
