import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LAYER_TYPES } from './from-json';

// Options that build each registered layer (the containers get no children).
const OPTIONS: Record<string, object> = {
  BatchNorm1d: { numFeatures: 4 },
  BatchNorm2d: { numFeatures: 4 },
  InstanceNorm2d: { numFeatures: 4, affine: true, trackRunningStats: true },
  LayerNorm: { normalizedShape: [4] },
  GroupNorm: { numGroups: 2, numChannels: 4 },
  Conv2d: { inChannels: 4, outChannels: 4, kernelSize: 3 },
  ConvTranspose2d: { inChannels: 4, outChannels: 4, kernelSize: 3 },
  Linear: { inFeatures: 4, outFeatures: 4 },
  PReLU: { numParameters: 4 },
};

describe('construction and dispose', () => {
  it.each(Object.keys(OPTIONS))(
    '%s leaves exactly its parameters and buffers alive',
    async (type) => {
      await useBackend('cpu');
      const before = tf.memory().numTensors;
      const layer = new LAYER_TYPES[type](OPTIONS[type]);
      const owned = layer.namedParameters().length + layer.namedBuffers().length;
      expect(owned).toBeGreaterThan(0);
      expect(tf.memory().numTensors - before).toBe(owned);
      layer.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
