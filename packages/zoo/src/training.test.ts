// Every family trains: gradients reach every trainable variable in train mode (dropout,
// BatchNorm batch statistics, GoogLeNet's auxiliary heads), with no missing gradient kernels
// on the backends the tests use, and no tensors left behind.
import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { alexnet } from './alexnet';
import { cifarResnet20 } from './cifar-resnet';
import { type GoogLeNetOutputs, googlenet } from './googlenet';
import { lenet5Original } from './lenet';
import { mobilenetV2 } from './mobilenet-v2';
import { resnet18 } from './resnet';
import { seResnet18 } from './se-resnet';
import { squeezenet1_1 } from './squeezenet';
import { unet } from './unet';
import type { ZooModel } from './zoo-model';

const CASES: [
  string,
  'cpu' | 'wasm',
  () => ZooModel<object, tf.Tensor | GoogLeNetOutputs>,
  number[],
][] = [
  ['lenet5Original', 'cpu', () => lenet5Original(), [2, 28, 28, 1]],
  ['cifarResnet20 (A)', 'cpu', () => cifarResnet20(), [2, 9, 9, 3]],
  ['cifarResnet20 (B)', 'cpu', () => cifarResnet20({ shortcut: 'B' }), [2, 8, 8, 3]],
  ['unet', 'cpu', () => unet({ depth: 2, baseChannels: 4, batchNorm: true }), [2, 8, 8, 3]],
  ['resnet18', 'wasm', () => resnet18({ numClasses: 4 }), [2, 32, 32, 3]],
  ['seResnet18', 'wasm', () => seResnet18({ numClasses: 4 }), [2, 32, 32, 3]],
  ['mobilenetV2', 'wasm', () => mobilenetV2({ numClasses: 4, widthMult: 0.35 }), [2, 32, 32, 3]],
  ['squeezenet1_1', 'wasm', () => squeezenet1_1({ numClasses: 4 }), [2, 32, 32, 3]],
  ['googlenet', 'wasm', () => googlenet({ numClasses: 4 }), [2, 32, 32, 3]],
  ['alexnet', 'wasm', () => alexnet({ numClasses: 4, initWeights: false }), [1, 63, 63, 3]],
];

describe('training', () => {
  for (const [name, backend, build, shape] of CASES) {
    it(`${name}: gradients for every trainable variable (${backend})`, async () => {
      await useBackend(backend);
      const model = build().train();
      const x = tf.randomNormal(shape, 0, 1, 'float32', 7);
      const vars = model.trainableVariables();
      const report = await measureLeaks(async () => {
        const { value, grads } = tf.variableGrads(() => {
          const out: tf.Tensor | GoogLeNetOutputs = model.forward(x);
          if (out instanceof tf.Tensor) return tf.mean(tf.square(out));
          // torchvision's GoogLeNet loss: main + 0.3 * (aux1 + aux2).
          const [a1, a2] = out.aux;
          return tf.add(
            tf.mean(tf.square(out.logits)),
            tf.mul(0.3, tf.add(tf.mean(tf.square(a1)), tf.mean(tf.square(a2)))),
          );
        }, vars);
        expect(Number.isFinite((await value.data())[0])).toBe(true);
        expect(Object.keys(grads).length).toBe(vars.length);
        let nonZero = 0;
        for (const g of Object.values(grads)) {
          const v = await g.data();
          expect(v.every(Number.isFinite)).toBe(true);
          if (v.some((e) => e !== 0)) nonZero++;
        }
        // ReLUs can zero a few gradients at random init; most must flow.
        expect(nonZero / vars.length).toBeGreaterThan(0.9);
        tf.dispose([value, ...Object.values(grads)]);
      });
      // BatchNorm running statistics are updated in place (assign), not leaked.
      expect(report.leakedTensors).toBe(0);
      x.dispose();
      model.dispose();
    });
  }
});
