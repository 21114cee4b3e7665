import type { RandomSource } from '@convkit/backend';
import { CategoricalParzen, NumericParzen } from './internal/parzen';
import { RandomSampler } from './random-sampler';
import type { SampleContext, Sampler } from './sampler';
import type { ParamValue, SearchSpace } from './search-space';
import type { TrialRecord } from './trial';

export interface TpeSamplerOptions {
  /** Random trials before the model is used (default 10). */
  startupTrials?: number;
  /** Candidates drawn from l(x) per parameter; the best l(x)/g(x) wins (default 24). */
  candidates?: number;
  /** How many complete trials are "good": γ(n) (default min(ceil(0.1 n), 25), as Optuna). */
  gamma?: (completeTrials: number) => number;
  /** Weight of the prior component in each estimator (default 1). */
  priorWeight?: number;
}

/**
 * The tree-structured Parzen estimator (Bergstra et al. 2011), univariate as Optuna's default:
 * the finished trials are split into the best γ(n) ("good") and the rest ("bad", pruned trials
 * included); for each active parameter, one Parzen estimator l(x) over the good trials' values
 * and one g(x) over the bad ones'; `candidates` draws from l(x), and the draw maximizing
 * l(x)/g(x) is taken. A conditional parameter is modelled from the trials where it was active.
 */
export class TpeSampler implements Sampler {
  readonly startupTrials: number;
  readonly candidates: number;
  readonly priorWeight: number;
  private readonly gamma: (n: number) => number;
  private readonly random = new RandomSampler();

  constructor(options: TpeSamplerOptions = {}) {
    this.startupTrials = options.startupTrials ?? 10;
    this.candidates = options.candidates ?? 24;
    this.priorWeight = options.priorWeight ?? 1;
    this.gamma = options.gamma ?? ((n) => Math.min(Math.ceil(0.1 * n), 25));
    for (const [name, v] of [
      ['startupTrials', this.startupTrials],
      ['candidates', this.candidates],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`TpeSampler: ${name} must be a positive integer, received ${v}`);
      }
    }
    if (!(this.priorWeight > 0)) {
      throw new Error(`TpeSampler: priorWeight must be > 0, received ${this.priorWeight}`);
    }
  }

  sample(space: SearchSpace, context: SampleContext): Record<string, ParamValue> {
    const complete = context.history
      .filter((t) => t.state === 'complete' && t.value !== undefined)
      .sort((a, b) =>
        context.direction === 'minimize' ? a.value! - b.value! : b.value! - a.value!,
      );
    if (complete.length < this.startupTrials) return this.random.sample(space, context);
    const nGood = Math.max(1, Math.min(complete.length, Math.floor(this.gamma(complete.length))));
    const good = complete.slice(0, nGood);
    const bad = [...complete.slice(nGood), ...context.history.filter((t) => t.state === 'pruned')];
    const params: Record<string, ParamValue> = {};
    for (const name of space.names) {
      if (!space.isActive(name, params)) continue;
      params[name] = this.sampleParam(space, name, good, bad, context.random);
    }
    return params;
  }

  private sampleParam(
    space: SearchSpace,
    name: string,
    good: TrialRecord[],
    bad: TrialRecord[],
    random: RandomSource,
  ): ParamValue {
    const p = space.spec[name];
    const valuesOf = (trials: TrialRecord[]) =>
      trials.filter((t) => name in t.params).map((t) => t.params[name]);
    if (p.type === 'choice' || p.type === 'boolean') {
      const options: ParamValue[] = p.type === 'choice' ? [...p.values] : [false, true];
      const index = (v: ParamValue) => options.indexOf(v);
      const l = new CategoricalParzen(
        valuesOf(good)
          .map(index)
          .filter((i) => i >= 0),
        options.length,
        this.priorWeight,
      );
      const g = new CategoricalParzen(
        valuesOf(bad)
          .map(index)
          .filter((i) => i >= 0),
        options.length,
        this.priorWeight,
      );
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < this.candidates; k++) {
        const c = l.sample(random);
        const score = l.logPdf(c) - g.logPdf(c);
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      return options[best];
    }
    const [low, high] = space.internalBounds(name);
    const internal = (trials: TrialRecord[]) =>
      valuesOf(trials).map((v) => space.toInternal(name, v as number));
    const l = new NumericParzen(internal(good), low, high, this.priorWeight);
    const g = new NumericParzen(internal(bad), low, high, this.priorWeight);
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < this.candidates; k++) {
      // Integers are scored where they land after rounding.
      const value = space.fromInternal(name, l.sample(random));
      const x = space.toInternal(name, value);
      const score = l.logPdf(x) - g.logPdf(x);
      if (score > bestScore) {
        bestScore = score;
        best = value;
      }
    }
    return best;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'tpe',
      startupTrials: this.startupTrials,
      candidates: this.candidates,
      priorWeight: this.priorWeight,
    };
  }
}
