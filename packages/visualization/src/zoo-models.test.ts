import { measureLeaks } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import { cifarResnet20 } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { featureMaps } from './features';
import { gradCam } from './grad-cam';
import { integratedGradients } from './integrated-gradients';
import { reconstruct } from './reconstruction';

// The zoo's models run forward inside tf.tidy: activations of their blocks are intermediates of
// those scopes, and every method must still see them alive (regression: they came back disposed).
describe.each(['cpu', 'wasm'] as const)(
  'methods on a zoo model, CIFAR ResNet-20 (%s)',
  (backend) => {
    it('feature maps, Grad-CAM, integrated gradients and reconstruction work and leak nothing', async () => {
      await useBackend(backend);
      const model = cifarResnet20().eval();
      const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 2);
      const { result, leakedTensors } = await measureLeaks(async () => ({
        inner: featureMaps(model, x, 'layer2.1'),
        last: featureMaps(model, x, 'layer3'),
        cam: gradCam(model, x, { layer: 'layer2', target: 4 }),
        ig: integratedGradients(model, x, { target: 4, steps: 8 }),
        rec: await reconstruct(model, x, { layer: 'layer1', steps: 15 }),
      }));
      expect(leakedTensors).toBe(0);
      const { inner, last, cam, ig, rec } = result;
      expect(inner.shape).toEqual([1, 4, 4, 32]);
      const features = tf.tidy(() => model.forwardFeatures(x));
      assertAllClose(await last.data(), await features.data());
      expect(cam.cam.shape).toEqual([1, 4, 4]);
      expect(cam.heatmap.shape).toEqual([1, 8, 8]);
      expect((await cam.weights.data()).every(Number.isFinite)).toBe(true);
      expect(ig.attribution.shape).toEqual([1, 8, 8, 3]);
      expect(rec.featureLosses.at(-1)).toBeLessThan(rec.featureLosses[0]);
      tf.dispose([x, inner, last, features, cam, ig, rec.image] as tf.TensorContainer);
      model.dispose();
    });
  },
);
