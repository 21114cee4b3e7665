import type { RandomSource } from '@convkit/backend';

/** Gamma(shape, 1) by Marsaglia and Tsang (boosted with U^(1/shape) for shape < 1). */
export function sampleGamma(shape: number, random: RandomSource): number {
  if (!(shape > 0)) throw new Error(`gamma: expected shape > 0, received ${shape}`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = random.next();
    return sampleGamma(shape + 1, random) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = random.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, random: RandomSource): number {
  const x = sampleGamma(a, random);
  const y = sampleGamma(b, random);
  return x + y === 0 ? 0.5 : x / (x + y);
}
