import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { unet } from './unet';

const FAMILY = {
  unet,
  unetBatchNorm: (o: Parameters<typeof unet>[0] = {}) => unet({ ...o, batchNorm: true }),
  unetSmall: (o: Parameters<typeof unet>[0] = {}) => unet({ ...o, depth: 2, baseChannels: 8 }),
  unetSmallBatchNorm: (o: Parameters<typeof unet>[0] = {}) =>
    unet({ ...o, depth: 3, baseChannels: 8, batchNorm: true }),
};

describe('U-Net', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY, { metadataSide: 64 });
});
