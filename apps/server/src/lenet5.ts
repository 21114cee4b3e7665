import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';

/**
 * LeNet-5 for 28x28 grey images, the modern variant (ReLU and max pooling), as a Sequential so
 * that its architecture JSON rebuilds with `moduleFromJSON` and its state-dict keys are those
 * of the same `nn.Sequential` in PyTorch (`0.weight`, `3.weight`, `7.weight`, ...).
 *
 * `@convkit/zoo`'s `lenet5` is the same network with metadata, but zoo models have no JSON
 * registry yet, so a checkpoint of one cannot be rebuilt from its manifest alone; the main job
 * keeps this Sequential until that registry exists.
 *
 * Shape: [N, 28, 28, 1] -> [N, numClasses].
 */
export function lenet5(numClasses = 10): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, padding: 2 }), // [N, 28, 28, 6]
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }), // [N, 14, 14, 6]
    new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }), // [N, 10, 10, 16]
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }), // [N, 5, 5, 16]
    new Flatten(), // [N, 400]
    new Linear({ inFeatures: 400, outFeatures: 120 }),
    new ReLU(),
    new Linear({ inFeatures: 120, outFeatures: 84 }),
    new ReLU(),
    new Linear({ inFeatures: 84, outFeatures: numClasses }), // [N, numClasses]
  );
}
