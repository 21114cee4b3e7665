import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, it } from 'vitest';
import {
  expectMetadata,
  expectParity,
  expectTorchvisionStructure,
  fixture,
} from './__fixtures__/harness';
import { mobilenetV2 } from './mobilenet-v2';

const FAMILY = {
  mobilenetV2,
  mobilenetV2Width050: (o: Parameters<typeof mobilenetV2>[0] = {}) =>
    mobilenetV2({ ...o, widthMult: 0.5 }),
};

describe('MobileNetV2', () => {
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
