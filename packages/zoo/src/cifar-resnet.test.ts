import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { cifarResnet20, cifarResnet56 } from './cifar-resnet';

const FAMILY = {
  cifarResnet20,
  cifarResnet20B: (o: Parameters<typeof cifarResnet20>[0] = {}) =>
    cifarResnet20({ ...o, shortcut: 'B' }),
  cifarResnet56,
};

describe('CIFAR ResNet', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);
});
