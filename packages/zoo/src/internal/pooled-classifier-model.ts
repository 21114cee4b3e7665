import type { AdaptiveAvgPool2d, Flatten, Sequential, Shape } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import { ZooModel } from '../zoo-model';

/**
 * torchvision's `features -> avgpool -> flatten -> classifier` models (AlexNet, VGG): the four
 * members are declared by the subclass, in that order, so the state-dict keys stay
 * torchvision's; this class only runs them.
 */
export abstract class PooledClassifierModel<
  Config extends { inChannels: number },
> extends ZooModel<Config> {
  abstract features: Sequential;
  abstract avgpool: AdaptiveAvgPool2d;
  abstract flatten: Flatten;
  abstract classifier: Sequential;

  protected get inputChannels(): number {
    return this.config.inChannels;
  }

  forwardFeatures(x: tf.Tensor): tf.Tensor {
    return this.features.forward(x); // [N, H, W, 3] -> [N, h, w, C]
  }

  forwardHead(features: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const pooled = this.avgpool.forward(features); // [N, 6, 6, 256] (AlexNet), [N, 7, 7, 512] (VGG)
      const flat = this.flatten.forward(pooled); // [N, 6 * 6 * 256] or [N, 7 * 7 * 512], H, W, C order
      return this.classifier.forward(flat); // [N, numClasses]
    });
  }

  protected featuresShape(input: Shape): Shape {
    return this.features.outputShape(input);
  }

  protected headShape(features: Shape): Shape {
    return this.classifier.outputShape(
      this.flatten.outputShape(this.avgpool.outputShape(features)),
    );
  }
}
