import { Module, type Shape } from '../module';

/** Base of the layers that map each element on its own: the output shape is the input's. */
export abstract class Elementwise<Config extends object> extends Module<Config> {
  outputShape(input: Shape): Shape {
    return [...input];
  }
}
