import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, it } from 'vitest';
import {
  expectMetadata,
  expectParity,
  expectTorchvisionStructure,
  fixture,
} from './__fixtures__/harness';
import { googlenet } from './googlenet';

const FAMILY = {
  googlenet,
  googlenetNoAux: (o: Parameters<typeof googlenet>[0] = {}) =>
    googlenet({ ...o, auxLogits: false }),
  googlenetPaper5x5: (o: Parameters<typeof googlenet>[0] = {}) =>
    googlenet({ ...o, paper5x5: true }),
};

describe('GoogLeNet', () => {
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
