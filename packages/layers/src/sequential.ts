import type * as tf from '@tensorflow/tfjs-core';
import { Module, type ModuleJSON, type Shape } from './module';

/**
 * Runs its modules in order, as torch.nn.Sequential; the state-dict keys are `0.weight`,
 * `1.bias`, ...
 *
 * Shape: the input shape of the first module -> the output shape of the last.
 */
export class Sequential extends Module<Record<string, never>> {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super({});
    this.layers = layers;
  }

  /** Children are named by index, as in PyTorch (`features.0.weight`, not `layers.0`). */
  protected override *members(): Generator<[string, Module]> {
    for (let i = 0; i < this.layers.length; i++) yield [String(i), this.layers[i]];
  }

  forward(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  outputShape(input: Shape): Shape {
    return this.layers.reduce((shape, layer) => layer.outputShape(shape), input);
  }

  override toJSON(): ModuleJSON {
    return { ...super.toJSON(), children: this.layers.map((l) => l.toJSON()) };
  }
}
