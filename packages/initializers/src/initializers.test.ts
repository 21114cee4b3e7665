import { manualSeed, RandomSource, selectBackend } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from './__fixtures__/init.json';
import {
  type AnyLayout,
  calculateGain,
  computeFans,
  constant,
  type Distribution,
  dirac,
  eye,
  glorotNormal,
  glorotUniform,
  heNormal,
  type Initializer,
  initPresets,
  kaimingNormal,
  kaimingUniform,
  lecunNormal,
  normal,
  ones,
  orthogonal,
  TRUNCATED_NORMAL_STD_AT_2,
  truncatedNormal,
  uniform,
  varianceScaling,
  xavierNormal,
  xavierUniform,
  zeros,
} from './index';
import { erf, erfinv } from './internal/base';
import { orthogonalFromMatrix } from './internal/qr';

const N = 200_000;

function build(name: string, options: Record<string, unknown>): Initializer {
  const table: Record<string, (o: any) => Initializer> = {
    kaimingUniform,
    kaimingNormal,
    xavierUniform,
    xavierNormal,
    truncatedNormal,
    uniform,
    normal,
    pytorchBias: () => initPresets.pytorch.convBias,
  };
  return table[name](options);
}

function stats(v: ArrayLike<number>) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    sum += v[i];
    if (v[i] < min) min = v[i];
    if (v[i] > max) max = v[i];
  }
  const mean = sum / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (v.length - 1)), min, max };
}

/** Mean and std of a distribution. */
function moments(d: Distribution, fixtureCase?: { sampleMean?: number; sampleStd?: number }) {
  switch (d.kind) {
    case 'constant':
      return { mean: d.value, std: 0 };
    case 'uniform':
      return { mean: (d.low + d.high) / 2, std: (d.high - d.low) / Math.sqrt(12) };
    case 'normal':
      return { mean: d.mean, std: d.std };
    case 'truncatedNormal':
      return { mean: fixtureCase!.sampleMean!, std: fixtureCase!.sampleStd! };
  }
}

/**
 * Statistical tolerance: 5 standard errors. With n samples of std s, SE(mean) = s / sqrt(n)
 * and SE(std) = s sqrt((kurtosis - 1) / (4n)) <= s / sqrt(2n) for the distributions here
 * (kurtosis <= 3: normal 3, uniform 1.8, truncated normal < 3). Seeds are fixed, so the tests
 * are deterministic; 5 SE means a correct sampler fails with probability ~6e-7 per new seed.
 */
function expectMoments(
  sample: { mean: number; std: number },
  expected: { mean: number; std: number },
  n: number,
) {
  const seMean = expected.std / Math.sqrt(n);
  const seStd = expected.std / Math.sqrt(2 * n);
  expect(Math.abs(sample.mean - expected.mean)).toBeLessThanOrEqual(5 * seMean + 1e-12);
  expect(Math.abs(sample.std - expected.std)).toBeLessThanOrEqual(5 * seStd + 1e-12);
}

function closeRel(a: number, b: number, rtol = 1e-12) {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rtol * Math.max(Math.abs(b), 1e-300));
}

describe('computeFans', () => {
  it.each(fixtures.fans)('$layout $shape matches torch fans of $torchShape', (c) => {
    expect(computeFans(c.shape, c.layout as AnyLayout)).toEqual({
      fanIn: c.fanIn,
      fanOut: c.fanOut,
    });
  });

  it('names the layout and shape in errors', () => {
    expect(() => computeFans([3], 'HWIO')).toThrow(
      "computeFans: layout 'HWIO' expects rank >= 2 [...kernel, in, out], received shape [3]",
    );
    expect(() => computeFans([3, 3], 'NCHW' as AnyLayout)).toThrow(
      "computeFans: unknown layout 'NCHW'",
    );
  });
});

describe('calculateGain', () => {
  it.each(fixtures.gains)('$nonlinearity $param = torch', (c) => {
    expect(calculateGain(c.nonlinearity as any, c.param ?? undefined)).toBeCloseTo(c.gain, 14);
  });

  it('rejects unknown nonlinearities', () => {
    expect(() => calculateGain('gelu' as any)).toThrow(
      "calculateGain: unsupported nonlinearity 'gelu'",
    );
  });
});

describe('distributions vs torch.nn.init formulas', () => {
  it.each(fixtures.distributions.map((c, i) => ({ ...c, i })))(
    '#$i $init $options on $torchShape',
    (c: any) => {
      const init = build(c.init, c.options);
      const fans = computeFans(c.shape, c.layout);
      const d = init.distribution!(c.shape, { layout: c.layout })!;
      expect(d.kind).toBe(c.kind);
      // Analytic parameters: exact up to floating-point rounding.
      for (const key of ['low', 'high', 'mean', 'std'] as const) {
        if (key in d) closeRel((d as any)[key], c[key]);
      }
      // Samples (with explicit fans on a flat shape so that n is large) follow the distribution.
      const values = init.sample([N], { fans, random: new RandomSource(c.i + 1) });
      const s = stats(values);
      const m = moments(d, c);
      expectMoments(s, m, N);
      // ...and torch's own samples agree with the same formulas (checks the fixture itself).
      expectMoments(c.torch, m, c.torch.n);
      if (d.kind === 'uniform' || d.kind === 'truncatedNormal') {
        expect(s.min).toBeGreaterThanOrEqual(Math.fround(d.low));
        expect(s.max).toBeLessThanOrEqual(Math.fround(d.high));
        if (d.kind === 'uniform') {
          // The extremes reach the bounds: the gap is ~Exponential with mean range / N.
          const range = d.high - d.low;
          expect(s.max).toBeGreaterThan(d.high - (20 * range) / N);
          expect(s.min).toBeLessThan(d.low + (20 * range) / N);
        }
      }
    },
  );

  it('PyTorch conv default for a 3-in 3x3 conv is U(+-0.19245)', () => {
    const shape = [3, 3, 3, 16];
    const fans = computeFans(shape);
    const w = initPresets.pytorch.convWeight.distribution!(shape, { fans });
    const b = initPresets.pytorch.convBias.distribution!([16], { fans });
    expect(w.kind).toBe('uniform');
    closeRel((w as any).low, -1 / Math.sqrt(27));
    closeRel((w as any).high, 1 / Math.sqrt(27));
    expect((w as any).high).toBeCloseTo(0.19245, 5);
    closeRel((b as any).high, 1 / Math.sqrt(27));
    expect(initPresets.keras.convBias.sample([4])).toEqual(new Float32Array(4));
    expect(initPresets.tfjs.linearWeight.name).toBe('glorotUniform');
  });

  it('Keras truncated normals have the requested std; tfjs-style ones are 12% narrower', () => {
    expect(fixtures.kerasTruncatedStd).toBeCloseTo(TRUNCATED_NORMAL_STD_AT_2, 15);
    const fans = { fanIn: 50, fanOut: 30 };
    const target = Math.sqrt(2 / 80);
    const keras = glorotNormal().sample([N], { fans, random: new RandomSource(7) });
    expectMoments(stats(keras), { mean: 0, std: target }, N);
    const tfjsStyle = varianceScaling({ mode: 'fanAvg', distribution: 'tfjsTruncatedNormal' });
    const narrow = tfjsStyle.sample([N], { fans, random: new RandomSource(8) });
    expectMoments(stats(narrow), { mean: 0, std: target * TRUNCATED_NORMAL_STD_AT_2 }, N);
    // PyTorch trunc_normal_ semantics: std of the underlying normal, so the samples are narrower.
    const torchStyle = truncatedNormal({ std: 1 }).sample([N], { random: new RandomSource(9) });
    expectMoments(stats(torchStyle), { mean: 0, std: TRUNCATED_NORMAL_STD_AT_2 }, N);
    expectMoments(
      stats(heNormal().sample([N], { fans, random: new RandomSource(10) })),
      { mean: 0, std: Math.sqrt(2 / 50) },
      N,
    );
    expectMoments(
      stats(lecunNormal().sample([N], { fans, random: new RandomSource(11) })),
      { mean: 0, std: Math.sqrt(1 / 50) },
      N,
    );
    const limit = Math.sqrt(6 / 80);
    const glorot = glorotUniform().distribution!([1], { fans }) as { high: number };
    const xavier = xavierUniform().distribution!([1], { fans }) as { high: number };
    closeRel(glorot.high, limit);
    closeRel(xavier.high, limit);
  });

  it('erf and erfinv are accurate (used by the far-tail truncated normal)', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erf(-1.2)).toBeCloseTo(-0.9103139782296353, 15);
    for (const y of [-0.999, -0.5, 0, 0.1, 0.9, 0.999999])
      expect(erf(erfinv(y))).toBeCloseTo(y, 12);
  });
});

describe('seeded reproducibility', () => {
  const inits = [
    kaimingUniform(),
    kaimingNormal(),
    xavierNormal(),
    truncatedNormal(),
    orthogonal(),
    glorotNormal(),
  ];
  it.each(inits.map((init) => ({ init, name: init.name })))(
    '$name: same seed => identical arrays',
    ({ init }) => {
      const shape = [3, 3, 4, 8];
      const a = init.sample(shape, { random: new RandomSource(42) });
      const b = init.sample(shape, { random: new RandomSource(42) });
      const c = init.sample(shape, { random: new RandomSource(43) });
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
      manualSeed(5);
      const d = init.sample(shape);
      manualSeed(5);
      expect(init.sample(shape)).toEqual(d);
    },
  );
});

describe('structured initializers', () => {
  it.each(fixtures.orthogonal)(
    'orthogonal $rows x $cols gain $gain = torch from the same matrix',
    (c) => {
      const q = orthogonalFromMatrix(c.matrix, c.rows, c.cols, c.gain);
      const worst = Math.max(...Array.from(q, (v, i) => Math.abs(v - c.q[i])));
      expect(worst).toBeLessThan(1e-5);
    },
  );

  function gram(values: Float32Array, rows: number, cols: number, overRows: boolean) {
    const n = overRows ? rows : cols;
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        if (overRows)
          for (let k = 0; k < cols; k++) s += values[i * cols + k] * values[j * cols + k];
        else for (let k = 0; k < rows; k++) s += values[k * cols + i] * values[k * cols + j];
        g[i * n + j] = s;
      }
    return { g, n };
  }

  it.each([
    { shape: [3, 3, 4, 8], layout: undefined, rows: 36, cols: 8 },
    { shape: [2, 10], layout: undefined, rows: 2, cols: 10 },
    { shape: [64, 64], layout: undefined, rows: 64, cols: 64 },
    { shape: [8, 4, 3, 3], layout: 'OIHW', rows: 8, cols: 36 },
  ] as const)('orthogonal $shape $layout: Q^T Q = gain^2 I', ({ shape, layout, rows, cols }) => {
    const gain = 1.5;
    const q = orthogonal({ gain }).sample(shape, { layout, random: new RandomSource(1) });
    // Orthonormal over the smaller dimension.
    const { g, n } = gram(q, rows, cols, rows <= cols);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        expect(Math.abs(g[i * n + j] - (i === j ? gain * gain : 0))).toBeLessThan(1e-5);
  });

  it.each(fixtures.dirac)('dirac $torchShape groups $groups = torch (HWIO and OIHW)', (c) => {
    expect(Array.from(dirac({ groups: c.groups }).sample(c.shape))).toEqual(c.values);
    expect(
      Array.from(dirac({ groups: c.groups }).sample(c.torchShape, { layout: 'OIHW' })),
    ).toEqual(c.torchValues);
  });

  it.each(fixtures.eye)('eye $shape = torch', (c) => {
    expect(Array.from(eye().sample(c.shape))).toEqual(c.values);
  });

  it('constants', () => {
    expect(Array.from(zeros().sample([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones().sample([3]))).toEqual([1, 1, 1]);
    expect(Array.from(constant(0.5).sample([2]))).toEqual([0.5, 0.5]);
  });
});

describe('tensor wrapper', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });
  it('returns a float32 tensor with the sample values', async () => {
    const init = kaimingUniform({ a: Math.sqrt(5) });
    const t = init.tensor([3, 3, 2, 4], { random: new RandomSource(3) });
    expect(t.shape).toEqual([3, 3, 2, 4]);
    expect(t.dtype).toBe('float32');
    expect(await t.data()).toEqual(init.sample([3, 3, 2, 4], { random: new RandomSource(3) }));
    t.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
  it('toJSON gives name and config', () => {
    expect(kaimingNormal({ mode: 'fanOut', nonlinearity: 'relu' }).toJSON()).toEqual({
      name: 'kaimingNormal',
      config: { a: 0, mode: 'fanOut', nonlinearity: 'relu' },
    });
  });
});

describe('bad input', () => {
  it('unknown option keys name the function and the key', () => {
    expect(() => kaimingUniform({ fanMode: 'fanIn' } as any)).toThrow(
      "kaimingUniform: unknown option 'fanMode'; expected 'a', 'mode', 'nonlinearity'",
    );
    expect(() => kaimingUniform().sample([3, 3], { seed: 1 } as any)).toThrow(
      "kaimingUniform.sample: unknown option 'seed'; expected 'fans', 'layout', 'random'",
    );
  });
  it('bad values echo what was received', () => {
    expect(() => kaimingNormal({ mode: 'fan_in' as any })).toThrow(
      "kaimingNormal: unknown mode 'fan_in'; expected 'fanIn' or 'fanOut'",
    );
    expect(() => uniform({ low: 1, high: 0 })).toThrow(
      'uniform: expected low <= high, received low=1, high=0',
    );
    expect(() => dirac({ groups: 3 }).sample([3, 3, 2, 4])).toThrow(
      'dirac: output channels 4 (shape [3, 3, 2, 4]) are not divisible by groups 3',
    );
    expect(() => eye().sample([2, 2, 2])).toThrow(
      'eye: expected a rank-2 shape, received [2, 2, 2]',
    );
  });
  it('fan-dependent initializers need fans for a bias', () => {
    expect(() => initPresets.pytorch.linearBias.sample([10])).toThrow(
      'kaimingUniform: cannot compute fans of a rank-1 shape [10]; pass { fans } (for a bias, the fans of its weight)',
    );
    expect(() => kaimingUniform().sample([3, -1])).toThrow(
      'kaimingUniform: expected a shape of non-negative integers, received [3, -1]',
    );
  });
});
