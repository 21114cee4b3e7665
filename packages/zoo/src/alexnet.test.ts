import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { alexnet, alexnetOriginal } from './alexnet';

const FAMILY = {
  alexnet,
  alexnetOriginal,
  alexnetOriginalTwoTower: (o: Parameters<typeof alexnetOriginal>[0] = {}) =>
    alexnetOriginal({ ...o, groups: 2 }),
};

describe('AlexNet', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);
});
