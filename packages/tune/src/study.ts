import { RandomSource } from '@convkit/backend';
import { inProcessRunner } from './in-process-runner';
import { createPruner, type PrunerSpec } from './pruner';
import type { Runner, StudyMeta } from './runner';
import type { Sampler } from './sampler';
import { type Params, SearchSpace, type SpaceSpec } from './search-space';
import { TpeSampler } from './tpe-sampler';
import { bestTrial, type Direction, type Objective, type TrialRecord } from './trial';

export interface StudyOptions<S extends SpaceSpec> {
  /** The study's name: the key of its state in a persistent runner (letters, digits, . _ -). */
  name?: string;
  space: SearchSpace<S> | S;
  /** How many trials in all (a resumed study counts the ones already finished). */
  trials: number;
  /** The objective, run in this process when no `runner` is given. */
  objective?: Objective<Params<S>>;
  /** Where trials run (default: in this process, one at a time). */
  runner?: Runner;
  /** Default 'minimize'. */
  direction?: Direction;
  /** Default: TPE. */
  sampler?: Sampler;
  /** Early stopping of trials from their per-step reports (default none). */
  pruner?: PrunerSpec;
  /** Seed of the sampler's per-trial streams (default 0). */
  seed?: number;
  /**
   * Trials in flight at once (default 1). Trial n starts once trials 0..n-concurrency have
   * finished and sees exactly those (sampler and pruner), so a seed gives the same study with
   * every runner, however fast each worker is.
   */
  concurrency?: number;
  /** Stop submitting trials and return what has finished. */
  signal?: AbortSignal;
  /** Called once per finished trial, in the order they finish. */
  onTrial?: (trial: TrialRecord) => void;
}

export interface StudyResult {
  name: string;
  direction: Direction;
  /** Finished trials by number (each number once). */
  trials: TrialRecord[];
  /** The best complete trial. */
  best: TrialRecord | undefined;
  /** Records received again for a finished trial (a retried trial) and ignored. */
  duplicates: number;
  /** 'completed': all trials ran; 'exhausted': the sampler had no more points (a grid); 'aborted'. */
  stop: 'completed' | 'exhausted' | 'aborted';
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** A trial's own random stream: the study seed and the trial number, each scrambled. */
export function trialRandom(seed: number, number: number): RandomSource {
  const a = new RandomSource(seed).nextUint32();
  const b = new RandomSource(number + 0x6a09e667).nextUint32();
  return new RandomSource((a ^ b) >>> 0);
}

/**
 * Run a hyperparameter search: ask the sampler for each trial's parameters, run trials on the
 * runner, stop poor ones with the pruner, and return every finished trial and the best.
 */
export async function runStudy<const S extends SpaceSpec>(
  options: StudyOptions<S>,
): Promise<StudyResult> {
  const name = options.name ?? 'study';
  if (!NAME.test(name)) {
    throw new Error(`runStudy: name must match ${NAME}, received ${JSON.stringify(name)}`);
  }
  const space =
    options.space instanceof SearchSpace ? options.space : new SearchSpace(options.space);
  const total = options.trials;
  if (!Number.isInteger(total) || total < 1) {
    throw new Error(`runStudy: trials must be a positive integer, received ${total}`);
  }
  const direction = options.direction ?? 'minimize';
  if (direction !== 'minimize' && direction !== 'maximize') {
    throw new Error(`runStudy: direction must be 'minimize' or 'maximize', received ${direction}`);
  }
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`runStudy: concurrency must be a positive integer, received ${concurrency}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed))
    throw new Error(`runStudy: seed must be a finite number, received ${seed}`);
  const pruner: PrunerSpec = options.pruner ?? { type: 'none' };
  createPruner(pruner); // validate here, not in the first worker
  const sampler = options.sampler ?? new TpeSampler();
  if (!options.runner && !options.objective) {
    throw new Error('runStudy: give an objective (run in this process) or a runner');
  }
  const runner = options.runner ?? inProcessRunner(options.objective!);
  const meta: StudyMeta = {
    name,
    direction,
    seed,
    concurrency,
    space: space.toJSON(),
    sampler: sampler.toJSON(),
    pruner: { ...pruner },
  };

  const opened = await runner.open(meta);
  const records = new Map<number, TrialRecord>();
  for (const r of opened.finished) records.set(r.number, r);
  const submitted = new Set<number>([...records.keys(), ...opened.pending]);
  let duplicates = 0;
  let exhausted = false;
  let nextNumber = 0;
  const visible = (n: number) =>
    [...records.values()]
      .filter((r) => r.number <= n - concurrency)
      .sort((a, b) => a.number - b.number);
  const finishedUpTo = (n: number) => {
    for (let m = 0; m <= n; m++) if (!records.has(m)) return false;
    return true;
  };
  const aborted = new Promise<'abort'>((resolve) => {
    if (options.signal?.aborted) resolve('abort');
    options.signal?.addEventListener('abort', () => resolve('abort'), { once: true });
  });

  try {
    for (;;) {
      while (!exhausted && !options.signal?.aborted) {
        while (submitted.has(nextNumber)) nextNumber++;
        if (nextNumber >= total) break;
        const inflight = [...submitted].filter((n) => !records.has(n)).length;
        if (inflight >= concurrency || !finishedUpTo(nextNumber - concurrency)) break;
        const history = visible(nextNumber);
        const params = sampler.sample(space as SearchSpace, {
          number: nextNumber,
          history,
          direction,
          random: trialRandom(seed, nextNumber),
        });
        if (params === null) {
          exhausted = true;
          break;
        }
        space.check(params);
        await runner.submit({
          study: name,
          number: nextNumber,
          params,
          direction,
          pruner,
          history: history.map((r) => ({ ...r, params: {} })),
        });
        submitted.add(nextNumber);
      }
      const waiting = [...submitted].some((n) => !records.has(n));
      if (!waiting || options.signal?.aborted) break;
      const record = await Promise.race([runner.next(), aborted]);
      if (record === 'abort') break;
      if (records.has(record.number)) {
        duplicates++;
        continue;
      }
      if (!submitted.has(record.number)) continue;
      records.set(record.number, record);
      options.onTrial?.(record);
    }
  } finally {
    await runner.close();
  }
  const trials = [...records.values()].sort((a, b) => a.number - b.number);
  const complete = trials.length >= total;
  return {
    name,
    direction,
    trials,
    best: bestTrial(trials, direction),
    duplicates,
    stop:
      options.signal?.aborted && !complete
        ? 'aborted'
        : exhausted && !complete
          ? 'exhausted'
          : 'completed',
  };
}
