// A user's own block becomes exportable by registering one exporter for its type, composing
// the exporters of its children (Concat and Add take several inputs).
import { Add, Concat, Conv2d, Module, ReLU, type Shape } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnxParity } from './__fixtures__/parity';
import { exportOnnx } from './export-onnx';
import { findOnnxExporter, registerOnnxExporter } from './exporter-registry';
import type { ModuleExporter } from './onnx-graph';

/** Two branches concatenated, plus a projection of the input added. */
class TwoBranch extends Module<{ channels: number }> {
  left: Conv2d;
  right: Conv2d;
  project: Conv2d;
  concat = new Concat();
  add = new Add();
  relu = new ReLU();

  constructor(channels: number) {
    super({ channels });
    this.left = new Conv2d({ inChannels: channels, outChannels: 2, kernelSize: 1 });
    this.right = new Conv2d({ inChannels: channels, outChannels: 3, kernelSize: 3, padding: 1 });
    this.project = new Conv2d({ inChannels: channels, outChannels: 5, kernelSize: 1 });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const joined = this.concat.forward(this.left.forward(x), this.right.forward(x));
      return this.relu.forward(this.add.forward(joined, this.project.forward(x)));
    });
  }

  outputShape(input: Shape): Shape {
    return [input[0], input[1], input[2], 5];
  }
}

const exportTwoBranch: ModuleExporter<TwoBranch> = (m, graph, x) => {
  const joined = graph.run(m.concat, graph.run(m.left, x), graph.run(m.right, x));
  return graph.run(m.relu, graph.run(m.add, joined, graph.run(m.project, x)));
};

describe('registerOnnxExporter', () => {
  beforeAll(() => useBackend('cpu'));

  it('refuses the block until its exporter is registered, then matches convkit', async () => {
    const model = new TwoBranch(4);
    await expect(exportOnnx(model, { inputShape: [1, 5, 6, 4] })).rejects.toThrow(
      'cannot export module (root) (TwoBranch): no ONNX exporter is registered for TwoBranch; register one with registerOnnxExporter(TwoBranch, exporter)',
    );
    registerOnnxExporter(TwoBranch, exportTwoBranch);
    expect(findOnnxExporter(model)).toBe(exportTwoBranch);
    const { maxAbs } = await onnxParity(model, [2, 5, 6, 4]);
    expect(maxAbs).toBeLessThan(1e-5);
    model.dispose();
  });

  it('finds a class before a type name, and refuses a non-function', () => {
    class Named extends ReLU {}
    const byName: ModuleExporter = (_m, _g, x) => x;
    registerOnnxExporter('Named', byName);
    expect(findOnnxExporter(new Named())).toBe(byName);
    const byClass: ModuleExporter = (_m, _g, x) => x;
    registerOnnxExporter(Named, byClass);
    expect(findOnnxExporter(new Named())).toBe(byClass);
    expect(() => registerOnnxExporter('Other', 3 as unknown as ModuleExporter)).toThrow(
      'registerOnnxExporter: expected an exporter function for Other, received number',
    );
  });
});
