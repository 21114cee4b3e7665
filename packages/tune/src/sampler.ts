import type { RandomSource } from '@convkit/backend';
import type { ParamValue, SearchSpace } from './search-space';
import type { Direction, TrialRecord } from './trial';

/** What a sampler knows when it picks trial `number`'s parameters. */
export interface SampleContext {
  number: number;
  /**
   * The finished trials visible to this one: those numbered <= number - concurrency, so the
   * same trials whichever runner ran them and in whatever order they finished.
   */
  history: readonly TrialRecord[];
  direction: Direction;
  /** This trial's own random stream (derived from the study seed and `number`). */
  random: RandomSource;
}

/** Picks parameters for each trial. */
export interface Sampler {
  /** Parameters for the trial, or null when the sampler has no more points (a finished grid). */
  sample(space: SearchSpace, context: SampleContext): Record<string, ParamValue> | null;
  /** The sampler's settings, stored with a study so that a resumed study can check them. */
  toJSON(): Record<string, unknown>;
}

/** Draw one value of parameter `name` uniformly (on its scale). */
export function sampleUniform(space: SearchSpace, name: string, random: RandomSource): ParamValue {
  const p = space.spec[name];
  switch (p.type) {
    case 'choice':
      return p.values[random.int(0, p.values.length)];
    case 'boolean':
      return random.next() < 0.5;
    default: {
      const [low, high] = space.internalBounds(name);
      return space.fromInternal(name, random.uniform(low, high));
    }
  }
}
