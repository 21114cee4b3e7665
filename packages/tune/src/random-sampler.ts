import { type SampleContext, type Sampler, sampleUniform } from './sampler';
import type { ParamValue, SearchSpace } from './search-space';

/**
 * Independent uniform draws (log-uniform for log parameters) from each trial's own seeded
 * stream: trial n gets the same parameters on every run with the same study seed.
 */
export class RandomSampler implements Sampler {
  sample(space: SearchSpace, { random }: SampleContext): Record<string, ParamValue> {
    const params: Record<string, ParamValue> = {};
    for (const name of space.names) {
      if (space.isActive(name, params)) params[name] = sampleUniform(space, name, random);
    }
    return params;
  }

  toJSON(): Record<string, unknown> {
    return { type: 'random' };
  }
}
