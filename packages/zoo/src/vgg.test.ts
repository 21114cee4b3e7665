import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, it } from 'vitest';
import {
  expectMetadata,
  expectParity,
  expectTorchvisionStructure,
  fixture,
} from './__fixtures__/harness';
import { vgg11, vgg11Bn, vgg13, vgg13Bn, vgg16, vgg16Bn, vgg19, vgg19Bn } from './vgg';

const FAMILY = { vgg11, vgg13, vgg16, vgg19, vgg11Bn, vgg13Bn, vgg16Bn, vgg19Bn };

describe('VGG', () => {
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
