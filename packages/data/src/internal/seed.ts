import { globalRandom, RandomSource } from '@convkit/backend';

/**
 * Hash any number of 32-bit integers into one 32-bit seed (murmur3's finalizer over a running
 * mix). Used to derive independent streams such as "epoch 3 of seed s" or "sample 17 of seed s"
 * so that random access and resuming give the same numbers as a full run.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const part of parts) {
    let k = Math.floor(part) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= parts.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A random source for the stream named by `parts` (see `mixSeed`). */
export function streamFor(...parts: number[]): RandomSource {
  return new RandomSource(mixSeed(...parts));
}

/**
 * The base seed of a seeded object: the explicit `seed`, or 32 bits drawn from `random`
 * (default: the global source, so `manualSeed(n)` before construction reproduces everything).
 */
export function resolveSeed(seed: number | undefined, random: RandomSource | undefined): number {
  if (seed !== undefined) {
    if (!Number.isFinite(seed)) throw new Error(`expected a finite seed, received ${seed}`);
    return Math.floor(seed) >>> 0;
  }
  return (random ?? globalRandom()).nextUint32();
}
