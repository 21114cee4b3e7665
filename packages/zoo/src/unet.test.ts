import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, it } from 'vitest';
import {
  expectMetadata,
  expectParity,
  expectTorchvisionStructure,
  fixture,
} from './__fixtures__/harness';
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

  for (const [name, build] of Object.entries(FAMILY)) {
    it(`${name}: parameter count, keys and shapes equal PyTorch's; metadata`, async () => {
      const model = build({ initWeights: false });
      try {
        expectTorchvisionStructure(model, name);
        await expectMetadata(model, name, 64);
      } finally {
        model.dispose();
      }
    });
    if (fixture.parity[name]) {
      it(`${name}: logits equal PyTorch's`, async () => {
        await expectParity(name, build);
      });
    }
  }
});
