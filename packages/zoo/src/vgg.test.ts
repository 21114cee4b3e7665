import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { vgg11, vgg11Bn, vgg13, vgg13Bn, vgg16, vgg16Bn, vgg19, vgg19Bn } from './vgg';

const FAMILY = { vgg11, vgg13, vgg16, vgg19, vgg11Bn, vgg13Bn, vgg16Bn, vgg19Bn };

describe('VGG', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY, { metadataSide: 64 });
});
