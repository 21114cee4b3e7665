// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
// The only wrapping: a backend for `.tensor(...)`, selected before the example.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

await selectBackend({ backend: 'cpu' });

// README example start
import { manualSeed, RandomSource } from '@convkit/backend';
import {
  computeFans,
  initPresets,
  kaimingNormal,
  orthogonal,
  truncatedNormal,
} from '@convkit/initializers';

manualSeed(0);
const shape = [3, 3, 3, 16]; // HWIO: 3x3 conv, 3 in, 16 out
const fans = computeFans(shape, 'HWIO'); // { fanIn: 27, fanOut: 144 }

// PyTorch's nn.Conv2d default: U(+-1/sqrt(27)) = U(+-0.19245) for weight and bias.
const weight = initPresets.pytorch.convWeight.tensor(shape, { fans });
const bias = initPresets.pytorch.convBias.tensor([16], { fans }); // the bias uses the weight's fans

// He init for a ReLU net, fan-out mode, from an explicit stream:
const w2 = kaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' }).sample(shape, {
  random: new RandomSource(1),
});
const q = orthogonal({ gain: Math.SQRT2 }).sample([64, 64]); // Q^T Q = 2 I
truncatedNormal({ std: 0.02 }).distribution!([768, 768]);
// { kind: 'truncatedNormal', mean: 0, std: 0.02, low: -2, high: 2 }
// PyTorch semantics: the cutoffs are absolute, so with std 0.02 nothing is truncated;
// pass { std: 0.02, low: -0.04, high: 0.04 } to cut at 2 std.
// README example end

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('the example computes what its comments say', () => {
  expect(fans).toEqual({ fanIn: 27, fanOut: 144 });

  const bound = 1 / Math.sqrt(27);
  expect(bound).toBeCloseTo(0.19245, 5);
  for (const [t, s] of [
    [weight, shape],
    [bias, [16]],
  ] as const) {
    expect(t.shape).toEqual(s);
    expect(t.dtype).toBe('float32');
    const v = Array.from(t.dataSync() as Float32Array);
    expect(Math.max(...v)).toBeLessThanOrEqual(bound);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-bound);
    // Spread over the interval, not a constant: the sample std of U(-b, b) is b / sqrt(3).
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(std).toBeGreaterThan(0.5 * (bound / Math.sqrt(3)));
  }

  // Kaiming normal, fan-out, relu: std = sqrt(2) / sqrt(144), from stream 1 (reproducible).
  expect(w2).toBeInstanceOf(Float32Array);
  expect(w2.length).toBe(432);
  const std2 = Math.sqrt(w2.reduce((a, b) => a + b * b, 0) / w2.length);
  expect(std2).toBeGreaterThan(0.8 * (Math.SQRT2 / 12));
  expect(std2).toBeLessThan(1.2 * (Math.SQRT2 / 12));
  const again = kaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' }).sample(shape, {
    random: new RandomSource(1),
  });
  expect(Array.from(again)).toEqual(Array.from(w2));

  // Q^T Q = 2 I for the orthogonal 64x64 sample with gain sqrt(2).
  let worst = 0;
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 64; j++) {
      let dot = 0;
      for (let k = 0; k < 64; k++) dot += q[k * 64 + i] * q[k * 64 + j];
      worst = Math.max(worst, Math.abs(dot - (i === j ? 2 : 0)));
    }
  }
  expect(worst).toBeLessThan(1e-4);

  expect(truncatedNormal({ std: 0.02 }).distribution!([768, 768])).toEqual({
    kind: 'truncatedNormal',
    mean: 0,
    std: 0.02,
    low: -2,
    high: 2,
  });
  tf.dispose([weight, bias]);
});
