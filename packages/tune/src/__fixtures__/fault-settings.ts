import { choice, defineSpace, float, int } from '../search-space';
import { TpeSampler } from '../tpe-sampler';

/** The study of the fault tests (shared with the coordinator process they kill). */
export const faultSettings = {
  space: defineSpace({ x: float(0, 1), width: int(8, 64), kind: choice(['a', 'b']) }),
  trials: 6,
  seed: 3,
  concurrency: 2,
  sampler: new TpeSampler({ startupTrials: 3 }),
  pruner: { type: 'median', startupTrials: 2 } as const,
};
