import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d';
import { Linear } from './linear';

/** The kernels `fn` runs, in order, each time it runs one. */
async function kernels(fn: () => tf.TensorContainer): Promise<string[]> {
  return (await tf.profile(() => tf.tidy(fn))).kernels.map((k) => k.name);
}

// tfjs's fused ops, under a gradient tape, compute the gradient of every input; the layers use
// them only for inference, so a first layer computes no gradient for its input.
describe.each(['cpu', 'wasm'] as const)('first layers under a gradient tape (%s)', (backend) => {
  it('Conv2d: one fused op for inference; no input gradient when training', async () => {
    await useBackend(backend);
    const conv = new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 });
    const images = tf.randomNormal([2, 6, 6, 3]);
    expect(await kernels(() => conv.forward(images))).toContain('FusedConv2D');
    const step = await kernels(() =>
      tf.variableGrads(() => tf.sum(conv.forward(images)), [conv.weight.variable]),
    );
    expect(step).toContain('Conv2DBackpropFilter');
    expect(step).not.toContain('Conv2DBackpropInput');
    expect(step).not.toContain('FusedConv2D');
    images.dispose();
    conv.dispose();
  });

  it('Linear: one fused op for inference; no input gradient when training', async () => {
    await useBackend(backend);
    const linear = new Linear({ inFeatures: 5, outFeatures: 4 });
    const rows = tf.randomNormal([3, 5]);
    expect(await kernels(() => linear.forward(rows))).toContain('_FusedMatMul');
    const step = await kernels(() =>
      tf.variableGrads(() => tf.sum(linear.forward(rows)), [linear.weight.variable]),
    );
    // The forward product and the weight's gradient; not rows' gradient (a third product).
    expect(step.filter((k) => k === 'BatchMatMul')).toHaveLength(2);
    expect(step).not.toContain('_FusedMatMul');
    rows.dispose();
    linear.dispose();
  });
});
