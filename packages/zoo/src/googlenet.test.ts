import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
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

  checkFamily(FAMILY);
});
