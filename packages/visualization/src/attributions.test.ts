import { measureLeaks } from '@convkit/backend';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type Encoded, fixture, loadFixtureModel, tensorOf } from './__fixtures__/models';
import { gradCam, gradCamPlusPlus } from './grad-cam';
import { integratedGradients } from './integrated-gradients';
import { occlusion } from './occlusion';
import { saliency, smoothGrad } from './saliency';

const RTOL = 1e-5;

/** |a - e| <= atol + rtol |e| with atol a small fraction of the expected values' scale. */
async function expectClose(label: string, actual: tf.Tensor, expected: Encoded) {
  expect(actual.shape, label).toEqual(expected.shape);
  const scale = Math.max(...expected.values.map(Math.abs));
  assertAllClose(await actual.data(), expected.values, { rtol: RTOL, atol: 1e-6 * scale, label });
}

describe.each(['cpu', 'wasm'] as const)('attributions equal PyTorch (%s)', (backend) => {
  describe.each(['convNet', 'resnetBlock'] as const)('%s', (name) => {
    const c = fixture[name];

    it('every method matches the fixture and leaves numTensors where it was', async () => {
      await useBackend(backend);
      const model = loadFixtureModel(name);
      const x = tensorOf(c.input);
      const noise = tensorOf(c.smoothGrad.noise);
      const target = c.target;
      const ig = c.integratedGradients;
      const oc = c.occlusion;
      const { result: r, leakedTensors } = await measureLeaks(() => ({
        logits: tf.tidy(() => model.forward(x)),
        saliency: saliency(model, x, { target }),
        smoothGrad: smoothGrad(model, x, { target, noise }),
        gradCam: gradCam(model, x, { layer: c.layer, target }),
        gradCamPlusPlus: gradCamPlusPlus(model, x, { layer: c.layer, target }),
        ig: integratedGradients(model, x, { target, steps: ig.steps, stepsPerBatch: 5 }),
        occlusion: occlusion(model, x, {
          target,
          window: oc.window,
          stride: oc.stride,
          value: oc.value,
          positionsPerBatch: 4,
        }),
      }));
      expect(leakedTensors).toBe(0);
      await expectClose('logits', r.logits, c.logits);
      await expectClose('saliency gradient', r.saliency.gradient, c.saliency.gradient);
      await expectClose('saliency map', r.saliency.map, c.saliency.map);
      await expectClose('smoothGrad gradient', r.smoothGrad.gradient, c.smoothGrad.gradient);
      await expectClose('smoothGrad map', r.smoothGrad.map, c.smoothGrad.map);
      for (const key of ['gradCam', 'gradCamPlusPlus'] as const) {
        await expectClose(`${key} weights`, r[key].weights, c[key].weights);
        await expectClose(`${key} cam`, r[key].cam, c[key].cam);
        await expectClose(`${key} heatmap`, r[key].heatmap, c[key].heatmap);
      }
      await expectClose('integratedGradients', r.ig.attribution, ig.attribution);
      // The completeness error is a small difference of large sums: compare it absolutely.
      const error = await r.ig.completenessError.data();
      assertAllClose(error, ig.completenessError.values, { rtol: 1e-3, atol: 1e-5 });
      await expectClose('occlusion', r.occlusion, oc.attribution);
      tf.dispose([x, noise, r] as tf.TensorContainer);
      model.dispose();
    });
  });
});

describe('attributions: defaults and bad input', () => {
  const c = fixture.convNet;

  it('the default target is the predicted class', async () => {
    await useBackend('cpu');
    const model = loadFixtureModel('convNet');
    const x = tensorOf(c.input);
    const predicted = Array.from(await tf.tidy(() => tf.argMax(model.forward(x), -1)).data());
    const a = saliency(model, x);
    const b = saliency(model, x, { target: predicted });
    assertAllClose(await a.gradient.data(), await b.gradient.data(), { rtol: 0, atol: 0 });
    tf.dispose([x, a, b] as tf.TensorContainer);
    model.dispose();
  });

  it('errors name the argument and the expected value, and leak nothing', async () => {
    await useBackend('cpu');
    const model = loadFixtureModel('convNet');
    const x = tensorOf(c.input);
    const before = tf.memory().numTensors;
    expect(() => saliency(model, x, { target: 5 })).toThrow(
      "saliency: argument 'target' must be a class index in [0, 4]; received 5",
    );
    expect(() => smoothGrad(model, x, { target: [1] })).toThrow(
      "smoothGrad: argument 'target' must have one class index per sample (2); received 1",
    );
    expect(() => gradCam(model, x, { layer: 'features.3' })).toThrow(
      "no submodule at path 'features.3'; valid paths: 0, 1, 2, 3, 4, 5, 6, 7",
    );
    expect(() => gradCamPlusPlus(model, x, { layer: '7' })).toThrow(
      "gradCamPlusPlus: option 'layer' must name a module with a spatial output [N, H, W, C]; '7' outputs [2, 5]",
    );
    const flat = tf.zeros([2, 8, 8]);
    expect(() => integratedGradients(model, flat)).toThrow(
      "integratedGradients: argument 'input' must be an NHWC image batch [N, H, W, C]; received [2, 8, 8]",
    );
    const grey = tf.zeros([2, 8, 8, 1]);
    expect(() => occlusion(model, grey)).toThrow(
      /occlusion: argument 'input' of shape \[2, 8, 8, 1\] does not fit the model: .*expected .*3/,
    );
    expect(() => occlusion(model, x, { window: 9 })).toThrow(
      "occlusion: option 'window' must fit the 8x8 input; received [9, 9]",
    );
    const noise = tf.zeros([3, 2, 8, 8, 1]);
    expect(() => smoothGrad(model, x, { noise })).toThrow(
      "smoothGrad: option 'noise' must have shape [3, 2, 8, 8, 3] ([samples, ...input shape]); received [3, 2, 8, 8, 1]",
    );
    expect(tf.memory().numTensors).toBe(before + 2 + 1);
    tf.dispose([x, flat, grey, noise]);
    model.dispose();
  });
});
