import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { mobilenetV2 } from './mobilenet-v2';

const FAMILY = {
  mobilenetV2,
  mobilenetV2Width050: (o: Parameters<typeof mobilenetV2>[0] = {}) =>
    mobilenetV2({ ...o, widthMult: 0.5 }),
};

describe('MobileNetV2', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);
});
