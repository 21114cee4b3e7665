import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, it } from 'vitest';
import {
  expectMetadata,
  expectParity,
  expectTorchvisionStructure,
  fixture,
} from './__fixtures__/harness';
import { squeezenet1_0, squeezenet1_1 } from './squeezenet';

const FAMILY = { squeezenet1_0, squeezenet1_1 };

describe('SqueezeNet', () => {
  beforeEach(() => useBackend('wasm'));

  for (const [name, build] of Object.entries(FAMILY)) {
    it(`${name}: parameter count, keys and shapes equal PyTorch's; metadata`, async () => {
      const model = build({ initWeights: false });
      try {
        expectTorchvisionStructure(model, name);
        await expectMetadata(model, name);
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
