import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether no gradient is being recorded: where the layers may call tfjs's fused ops
 * (`tf.fused.conv2d`, `tf.fused.matMul`: the product and its bias in one op). Under a gradient
 * tape tfjs runs those as custom gradients that compute the gradient of every input, needed or
 * not, so a first layer would compute one for its images (9 ms of a 710 ms CIFAR ResNet-20
 * step on wasm here); the unfused ops get from tfjs only the gradients the loss needs.
 */
export function outsideGradientTape(): boolean {
  return tf.engine().state.gradientDepth === 0;
}
