import { moduleFromJSON } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import { lenet5, ZOO_MODULE_TYPES, type ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { resetClassifier } from './head';

it('resetClassifier updates config.numClasses, so toJSON rebuilds the model and its state loads', async () => {
  await useBackend('cpu');
  const model = lenet5({ numClasses: 10 });
  resetClassifier(model, 3);
  expect(model.config.numClasses).toBe(3);
  const rebuilt = moduleFromJSON<ZooModel>(model.toJSON(), ZOO_MODULE_TYPES);
  rebuilt.loadStateDict(model.stateDict());
  model.eval();
  rebuilt.eval();
  const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 4);
  const [a, b] = [model.forward(x), rebuilt.forward(x)];
  expect(a.shape).toEqual([2, 3]);
  expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
  tf.dispose([x, a, b]);
  model.dispose();
  rebuilt.dispose();
});
