import { readFileSync } from 'node:fs';
import { findMismatch, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import tinyFixture from './__fixtures__/tiny-cnn.json';
import {
  convertStateDict,
  exportStateDict,
  fromPyTorchLayout,
  kerasNameToKey,
  type LayoutMap,
  mapKerasNames,
  readSafetensors,
} from './index';

const fromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

/** The tiny CNN's layout map, as a convkit module would report it. */
const LAYOUTS: LayoutMap = {
  'conv1.weight': { layout: 'HWIO', shape: [3, 3, 3, 4] },
  'bn1.weight': 'vector',
  'bn1.bias': 'vector',
  'bn1.running_mean': 'vector',
  'bn1.running_var': 'vector',
  'bn1.num_batches_tracked': 'scalar',
  'dw.weight': { layout: 'HWCM', shape: [3, 3, 4, 2] },
  'dw.bias': 'vector',
  'bn2.weight': 'vector',
  'bn2.bias': 'vector',
  'bn2.running_mean': 'vector',
  'bn2.running_var': 'vector',
  'bn2.num_batches_tracked': 'scalar',
  'fc.weight': { layout: 'IO', shape: [72, 5] },
  'fc.bias': 'vector',
  'up.weight': { layout: 'HWOI', shape: [2, 2, 2, 8] },
  'up.bias': 'vector',
};

function pytorchState(): Record<string, tf.Tensor> {
  const bytes = readFileSync(new URL('./__fixtures__/tiny-cnn.safetensors', import.meta.url));
  return readSafetensors(bytes).tensors;
}

const disposeAll = (...groups: Record<string, tf.Tensor>[]) => {
  for (const g of groups) for (const t of Object.values(g)) t.dispose();
};

beforeAll(async () => {
  await useBackend('cpu');
});

describe('PyTorch -> convkit converters', () => {
  it('converted weights reproduce PyTorch outputs with NHWC tfjs ops (conv, depthwise M=2, linear after flatten, transposed conv)', () => {
    const state = pytorchState();
    const result = convertStateDict(state, LAYOUTS, { flattenedFrom: { fc: [8, 3, 3] } });
    expect(result.missing).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.misShaped).toEqual([]);
    const w = result.tensors;
    expect(w['dw.weight'].shape).toEqual([3, 3, 4, 2]);
    expect(w['fc.weight'].shape).toEqual([72, 5]);
    expect(w['bn1.num_batches_tracked'].dtype).toBe('int32');
    const [logits, upsampled] = tf.tidy(() => {
      const x = tf.transpose(
        tf.tensor4d(
          fromBits(tinyFixture.input.bits),
          tinyFixture.input.shape as [number, number, number, number],
        ),
        [0, 2, 3, 1],
      );
      const bn = (h: tf.Tensor4D, p: string) =>
        tf.batchNorm(
          h,
          w[`${p}.running_mean`] as tf.Tensor1D,
          w[`${p}.running_var`] as tf.Tensor1D,
          w[`${p}.bias`] as tf.Tensor1D,
          w[`${p}.weight`] as tf.Tensor1D,
          1e-5,
        );
      let h = tf.relu(
        bn(tf.conv2d(x as tf.Tensor4D, w['conv1.weight'] as tf.Tensor4D, 1, 'same'), 'bn1'),
      );
      h = tf.relu(
        bn(
          tf.add(
            tf.depthwiseConv2d(h, w['dw.weight'] as tf.Tensor4D, 1, 'same'),
            w['dw.bias'],
          ) as tf.Tensor4D,
          'bn2',
        ),
      );
      const f = tf.maxPool(h, 2, 2, 'valid'); // [2, 3, 3, 8]
      const logits = tf.add(
        tf.matMul(tf.reshape(f, [2, 72]), w['fc.weight'] as tf.Tensor2D),
        w['fc.bias'],
      );
      const up = tf.add(
        tf.conv2dTranspose(f, w['up.weight'] as tf.Tensor4D, [2, 6, 6, 2], 2, 'valid'),
        w['up.bias'],
      );
      return [logits, tf.transpose(up, [0, 3, 1, 2])]; // back to NCHW to compare
    });
    expect(
      findMismatch(logits.dataSync(), fromBits(tinyFixture.logits.bits), {
        rtol: 1e-5,
        atol: 1e-5,
      }),
    ).toBeNull();
    expect(upsampled.shape).toEqual(tinyFixture.upsampled.shape);
    expect(
      findMismatch(upsampled.dataSync(), fromBits(tinyFixture.upsampled.bits), {
        rtol: 1e-5,
        atol: 1e-5,
      }),
    ).toBeNull();

    // Without the flatten hint the linear layer reads the columns in the wrong order.
    const wrong = fromPyTorchLayout(state['fc.weight'], 'IO');
    expect(Array.from(wrong.dataSync())).not.toEqual(Array.from(w['fc.weight'].dataSync()));
    wrong.dispose();

    // And back: convkit -> PyTorch gives the original tensors bit for bit.
    const back = exportStateDict(w, LAYOUTS, { flattenedFrom: { 'fc.weight': [8, 3, 3] } });
    expect(back.misShaped).toEqual([]);
    for (const [key, original] of Object.entries(state)) {
      expect(back.tensors[key].shape, key).toEqual(original.shape);
      expect(Array.from(back.tensors[key].dataSync()), key).toEqual(
        Array.from(original.dataSync()),
      );
    }
    disposeAll(state, w, back.tensors);
    logits.dispose();
    upsampled.dispose();
  });

  it('reports missing, unexpected and mis-shaped keys together, and throws them all with strict', () => {
    const state = pytorchState();
    state['fc.weight'].dispose();
    delete state['fc.weight'];
    state['extra.weight'] = tf.zeros([2]);
    const layouts: LayoutMap = {
      ...LAYOUTS,
      'conv1.weight': { layout: 'HWIO', shape: [5, 5, 3, 4] },
      'bn1.bias': 'HWIO',
    };
    const before = tf.memory().numTensors;
    const result = convertStateDict(state, layouts);
    expect(result.missing).toEqual(['fc.weight']);
    expect(result.unexpected).toEqual(['extra.weight']);
    expect(result.misShaped.map((p) => p.key)).toEqual(['conv1.weight', 'bn1.bias']);
    expect(result.misShaped[0].expected).toMatch(
      /convkit shape \[5, 5, 3, 4\] \(HWIO\), the converted tensor is \[3, 3, 3, 4\]/,
    );
    expect(result.misShaped[0].received).toEqual([4, 3, 3, 3]);
    expect(result.misShaped[1].expected).toMatch(/HWIO .* expects rank 4, received shape \[4\]/);
    expect('conv1.weight' in result.tensors).toBe(false);
    disposeAll(result.tensors);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => convertStateDict(state, layouts, { strict: true })).toThrow(
      /convertStateDict: 4 problem\(s\):\n {2}conv1.weight: expected .*\n {2}bn1.bias: expected .*\n {2}missing key fc.weight\n {2}unexpected key extra.weight/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      convertStateDict(
        state,
        { ...LAYOUTS, 'fc.weight': 'IO' },
        { flattenedFrom: { 'extra.weight': [1, 1, 1] } },
      ),
    ).not.toThrow();
    disposeAll(state);
  });
});

describe('Keras / tfjs-layers names', () => {
  it('maps kernel/bias/gamma/beta/moving stats/depthwise_kernel to PyTorch names', () => {
    expect(kerasNameToKey('conv2d/kernel:0')).toBe('conv2d.weight');
    expect(kerasNameToKey('batch_normalization/gamma:0')).toBe('batch_normalization.weight');
    expect(kerasNameToKey('batch_normalization/beta')).toBe('batch_normalization.bias');
    expect(kerasNameToKey('batch_normalization/moving_mean:0')).toBe(
      'batch_normalization.running_mean',
    );
    expect(kerasNameToKey('batch_normalization/moving_variance:0')).toBe(
      'batch_normalization.running_var',
    );
    expect(kerasNameToKey('depthwise_conv2d/depthwise_kernel:0')).toBe('depthwise_conv2d.weight');
    expect(kerasNameToKey('model/block1/dense/bias')).toBe('model.block1.dense.bias');
    expect(() => kerasNameToKey('sep/pointwise_kernel:0')).toThrow(
      /no mapping for variable "pointwise_kernel"/,
    );
  });

  it('renames a whole Keras model to a convkit state dict, with user-extended layer and variable maps', () => {
    const keras = {
      'conv2d/kernel:0': 'k1',
      'batch_normalization/gamma:0': 'g',
      'batch_normalization/beta:0': 'b',
      'batch_normalization/moving_mean:0': 'm',
      'batch_normalization/moving_variance:0': 'v',
      'sequential/depthwise_conv2d/depthwise_kernel:0': 'dk',
      'sequential/depthwise_conv2d/bias:0': 'db',
      'separable/pointwise_kernel:0': 'pk',
      'dense/kernel:0': 'fk',
      'dense/bias:0': 'fb',
      'dropout/seed_generator_state': 's',
    };
    const { mapped, dropped } = mapKerasNames(keras, {
      layers: {
        conv2d: 'conv1',
        batch_normalization: 'bn1',
        depthwise_conv2d: 'dw',
        separable: 'sep',
        dense: 'fc',
      },
      suffixes: { pointwise_kernel: 'pointwise.weight', seed_generator_state: 'seed' },
      rename: (key) => (key.endsWith('.seed') ? null : key),
    });
    expect(mapped).toEqual({
      'conv1.weight': 'k1',
      'bn1.weight': 'g',
      'bn1.bias': 'b',
      'bn1.running_mean': 'm',
      'bn1.running_var': 'v',
      'dw.weight': 'dk',
      'dw.bias': 'db',
      'sep.pointwise.weight': 'pk',
      'fc.weight': 'fk',
      'fc.bias': 'fb',
    });
    expect(dropped).toEqual(['dropout/seed_generator_state']);
    expect(() => mapKerasNames({ 'a/kernel': 1, 'b/kernel': 2 }, { layers: () => 'same' })).toThrow(
      /Keras weights "a\/kernel" and "b\/kernel" both map to "same.weight"/,
    );
  });
});
