import type { SampleContext, Sampler } from './sampler';
import type { ParamValue, SearchSpace } from './search-space';

export interface GridSamplerOptions {
  /** Refuse grids with more points than this (default 100 000). */
  maxPoints?: number;
}

/**
 * Every combination, in order: trial n gets point n; after the last point the study stops.
 * Integers take every value on their step, floats `gridPoints` evenly spaced values on their
 * scale, choices and booleans every value; a conditional parameter only varies where its
 * condition holds (no duplicate points).
 */
export class GridSampler implements Sampler {
  readonly maxPoints: number;
  private cache: { space: SearchSpace; points: Record<string, ParamValue>[] } | undefined;

  constructor(options: GridSamplerOptions = {}) {
    this.maxPoints = options.maxPoints ?? 100_000;
  }

  /** All points of `space`, in the order trials get them. */
  points(space: SearchSpace): Record<string, ParamValue>[] {
    if (this.cache?.space === space) return this.cache.points;
    const points: Record<string, ParamValue>[] = [];
    const expand = (i: number, params: Record<string, ParamValue>) => {
      if (i === space.names.length) {
        points.push({ ...params });
        if (points.length > this.maxPoints) {
          throw new Error(`GridSampler: the grid has more than maxPoints=${this.maxPoints} points`);
        }
        return;
      }
      const name = space.names[i];
      if (!space.isActive(name, params)) return expand(i + 1, params);
      for (const value of gridValues(space, name, this.maxPoints)) {
        params[name] = value;
        expand(i + 1, params);
      }
      delete params[name];
    };
    expand(0, {});
    this.cache = { space, points };
    return points;
  }

  sample(space: SearchSpace, { number }: SampleContext): Record<string, ParamValue> | null {
    return this.points(space)[number] ?? null;
  }

  toJSON(): Record<string, unknown> {
    return { type: 'grid', maxPoints: this.maxPoints };
  }
}

function gridValues(space: SearchSpace, name: string, maxPoints: number): ParamValue[] {
  const p = space.spec[name];
  if (p.type === 'choice') return [...p.values];
  if (p.type === 'boolean') return [false, true];
  if (p.type === 'int') {
    const step = p.step ?? 1;
    const count = Math.floor((p.high - p.low) / step) + 1;
    if (count > maxPoints) {
      throw new Error(`GridSampler: parameter '${name}' has ${count} values (> maxPoints)`);
    }
    return Array.from({ length: count }, (_, k) => p.low + k * step);
  }
  const n = p.gridPoints ?? 5;
  const [low, high] = [space.toInternal(name, p.low), space.toInternal(name, p.high)];
  if (n === 1) return [space.fromInternal(name, (low + high) / 2)];
  return Array.from({ length: n }, (_, k) =>
    k === n - 1 ? p.high : space.fromInternal(name, low + ((high - low) * k) / (n - 1)),
  );
}
