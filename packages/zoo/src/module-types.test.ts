import { measureLeaks } from '@convkit/backend';
import { type AnyModule, Sequential } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { cifarResnet20 } from './cifar-resnet';
import { googlenet } from './googlenet';
import { lenet5 } from './lenet';
import { mobilenetV2 } from './mobilenet-v2';
import { createZooModel, ZOO_MODELS, ZOO_MODULE_TYPES, zooModuleFromJSON } from './module-types';
import { seResnet18 } from './se-resnet';
import { squeezenet1_1 } from './squeezenet';
import { unet } from './unet';

/** The state dict's keys and shapes, in order. */
function layout(model: AnyModule): [string, number[]][] {
  return Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]);
}

describe('ZOO_MODULE_TYPES', () => {
  beforeEach(() => useBackend('cpu'));

  it('names every class by the type its toJSON() writes', () => {
    for (const [name, Type] of Object.entries(ZOO_MODULE_TYPES)) expect(Type.name).toBe(name);
    for (const name of ['LeNet5', 'ResNet', 'Bottleneck', 'VGG', 'UNet', 'CifarResNet']) {
      expect(ZOO_MODULE_TYPES).toHaveProperty(name);
    }
  });

  it.each([
    ['lenet5', () => lenet5({ numClasses: 7 })],
    ['cifarResnet20', () => cifarResnet20({ initWeights: false })],
    ['squeezenet1_1', () => squeezenet1_1({ numClasses: 5, initWeights: false })],
    ['mobilenetV2', () => mobilenetV2({ numClasses: 5, widthMult: 0.5, initWeights: false })],
    ['googlenet', () => googlenet({ numClasses: 5, auxLogits: true, initWeights: false })],
    ['seResnet18', () => seResnet18({ numClasses: 5, initWeights: false })],
    ['unet', () => unet({ depth: 2, baseChannels: 4, initWeights: false })],
  ])('%s rebuilds from its JSON with the same class, config and state-dict layout', (_, make) => {
    const model = make();
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const rebuilt = zooModuleFromJSON(json);
    expect(rebuilt.constructor).toBe(model.constructor);
    expect(rebuilt.toJSON()).toEqual(json);
    expect(layout(rebuilt)).toEqual(layout(model));
    model.dispose();
    rebuilt.dispose();
  });

  it('a rebuilt model with the saved weights computes the same outputs; Sequentials nest', async () => {
    const model = new Sequential(lenet5({ numClasses: 4 }));
    const rebuilt = zooModuleFromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 1);
    const { leakedTensors } = await measureLeaks(async () => {
      rebuilt.loadStateDict(model.stateDict());
      const [a, b] = tf.tidy(() => [model.eval().forward(x), rebuilt.eval().forward(x)]);
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([a, b]);
    });
    expect(leakedTensors).toBe(0);
    tf.dispose([x]);
    model.dispose();
    rebuilt.dispose();
  });

  it('createZooModel builds by factory name and names the choices otherwise', () => {
    const model = createZooModel('lenet5', { numClasses: 3 });
    expect(model.info.name).toBe('lenet5');
    expect(model.outputShape([1, 28, 28, 1])).toEqual([1, 3]);
    model.dispose();
    expect(Object.keys(ZOO_MODELS)).toContain('cifarResnet20');
    expect(() => createZooModel('toString')).toThrow(
      /unknown zoo model 'toString'; expected one of lenet5, /,
    );
    expect(() => zooModuleFromJSON({ type: 'Nope', config: {} })).toThrow(
      /unknown module type 'Nope'/,
    );
  });
});
