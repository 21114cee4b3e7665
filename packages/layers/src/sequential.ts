import type * as tf from '@tensorflow/tfjs-core';
import { Module, type ModuleJSON, type Shape } from './module';

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  return `an object of class ${value.constructor?.name ?? 'Object'}`;
}

/**
 * Runs its modules in order, as torch.nn.Sequential; the state-dict keys are `0.weight`,
 * `1.bias`, ...
 *
 * Shape: the input shape of the first module -> the output shape of the last.
 */
export class Sequential extends Module<Record<string, never>> {
  readonly layers: Module[];

  /** `new Sequential(a, b, c)` or, as Keras and tfjs write it, `new Sequential([a, b, c])`. */
  constructor(...layers: Module[] | [Module[]]) {
    super({});
    const list = layers.length === 1 && Array.isArray(layers[0]) ? layers[0] : layers;
    list.forEach((layer, i) => {
      if (!(layer instanceof Module)) {
        throw new Error(
          `Sequential: expected module ${i} to be a Module (a layer or a model), received ${describeValue(layer)}`,
        );
      }
    });
    this.layers = list as Module[];
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
