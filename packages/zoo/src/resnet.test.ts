import { useBackend } from '@convkit/tooling/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkFamily } from './__fixtures__/harness';
import { resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet';
import { seResnet18, seResnet50 } from './se-resnet';

const FAMILY = { resnet18, resnet34, resnet50, resnet101, resnet152, seResnet18, seResnet50 };

describe('ResNet and SE-ResNet', () => {
  beforeEach(() => useBackend('wasm'));

  checkFamily(FAMILY);

  it('resnet18 metadata', () => {
    const model = resnet18({ initWeights: false, numClasses: 10 });
    expect(model.info.firstConv).toBe('conv1');
    expect(model.info.classifier).toBe('fc');
    expect(model.info.featureInfo.map((f) => f.reduction)).toEqual([2, 4, 8, 16, 32]);
    model.dispose();
  });
});
