import { zeros } from './constant';
import type { Initializer } from './initializer';
import { kaimingUniform } from './kaiming';
import { glorotUniform } from './variance-scaling';

/** The default initializers of a framework for conv and linear (dense) layers. */
export interface InitPreset {
  convWeight: Initializer;
  /** Sampled with the fans of the conv WEIGHT. */
  convBias: Initializer;
  linearWeight: Initializer;
  /** Sampled with the fans of the linear WEIGHT. */
  linearBias: Initializer;
}

/**
 * PyTorch's default for nn.Conv*d / nn.Linear: weight `kaiming_uniform_(a=sqrt(5))`, i.e.
 * U(+-1/sqrt(fanIn)), and bias U(+-1/sqrt(fanIn)) with the weight's fanIn (0.19245 for a
 * 3x3 conv with 3 inputs).
 */
function pytorchPreset(): InitPreset {
  const weight = kaimingUniform({ a: Math.sqrt(5) });
  return { convWeight: weight, convBias: weight, linearWeight: weight, linearBias: weight };
}

/** Keras (Conv2D, Dense) and tfjs-layers (conv2d, dense): glorot uniform weights, zero bias. */
function glorotZerosPreset(): InitPreset {
  return {
    convWeight: glorotUniform(),
    convBias: zeros(),
    linearWeight: glorotUniform(),
    linearBias: zeros(),
  };
}

/** Named default initializers: `initPresets.pytorch.convWeight.sample(shape, { fans })`. */
export const initPresets: Readonly<Record<'pytorch' | 'keras' | 'tfjs', InitPreset>> =
  Object.freeze({
    pytorch: pytorchPreset(),
    keras: glorotZerosPreset(),
    tfjs: glorotZerosPreset(),
  });
