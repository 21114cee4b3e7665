import { type BackendName, manualSeed, selectBackend } from '@convkit/backend';
import { DataLoader, stratifiedSplit, subset } from '@convkit/data';
import { fit } from '@convkit/train';
import { type Objective, type Trial, TrialReporter } from '@convkit/tune';
import { createZooModel } from '@convkit/zoo';
import { type DatasetSpec, type LoadedData, loadData, transformsFor } from './datasets';
import { makeOptimizer, OPTIMIZERS } from './train-job';

/**
 * What every trial of a `convkit tune` study shares (the search space gives the rest). The
 * coordinator and every `tune-worker` of a study must use the same settings.
 */
export interface TuneObjectiveConfig {
  backend: 'auto' | BackendName;
  /** A zoo factory name (`lenet5`, ...). */
  model: string;
  dataset: DatasetSpec;
  imageSize?: number;
  /** Epochs per trial (the most a pruner lets a trial run). */
  epochs: number;
  /** Batch size when the space has no `batchSize`. */
  batchSize: number;
  /** Seeds the split, the shuffling and (plus the trial number) each model's weights. */
  seed: number;
  /** Training images held out for validation (stratified), default 5000 or half the set. */
  validationSamples?: number;
  /** Smoke mode: `steps * batchSize` training images per epoch. */
  steps?: number;
}

/** Search-space parameters a trial's training reads; any other parameter is a zoo model option. */
export const TRAINING_PARAMS = ['lr', 'optimizer', 'momentum', 'weightDecay', 'batchSize'] as const;

/** The environment variable that hands the config to `worker_threads` (see `setup`). */
export const CONFIG_ENV = 'CONVKIT_TUNE_OBJECTIVE';

let cached: { key: string; data: LoadedData; train: Int32Array; validation: Int32Array } | null =
  null;

/** The data set and its stratified train / validation split, loaded once per process (thread). */
async function prepared(config: TuneObjectiveConfig) {
  const key = JSON.stringify([
    config.dataset,
    config.imageSize,
    config.seed,
    config.validationSamples,
  ]);
  if (cached?.key !== key) {
    const data = await loadData(config.dataset, { imageSize: config.imageSize, seed: config.seed });
    const all = data.train;
    const size = Math.min(config.validationSamples ?? 5000, Math.floor(all.length / 2));
    const [train, validation] = stratifiedSplit(all.labels, {
      sizes: [all.length - size, size],
      seed: config.seed,
    });
    cached = { key, data, train, validation };
  }
  return cached;
}

/**
 * Refuse search-space parameters that are neither training parameters nor options of the zoo
 * model (zoo factories ignore unknown options, so a misspelt name would silently do nothing).
 */
export function checkSpaceParams(model: string, names: readonly string[]): void {
  const probe = createZooModel(model, { initWeights: false });
  const options = Object.keys(probe.config).filter((k) => k !== 'name');
  probe.dispose();
  const known = [...TRAINING_PARAMS, ...options];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `tune: search-space parameter(s) ${unknown.map((n) => `'${n}'`).join(', ')} are neither training parameters (${TRAINING_PARAMS.join(', ')}) nor options of the zoo model '${model}' (${options.join(', ')})`,
    );
  }
}

function param<T>(trial: Trial, name: string, check: (v: unknown) => v is T, expected: string) {
  const v = trial.params[name];
  if (v === undefined) return undefined;
  if (!check(v)) {
    throw new Error(
      `tune: parameter '${name}' must be ${expected}; received ${JSON.stringify(v)} in trial ${trial.number}`,
    );
  }
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOptimizer = (v: unknown): v is (typeof OPTIMIZERS)[number] =>
  (OPTIMIZERS as readonly unknown[]).includes(v);

/**
 * The objective of `convkit tune`: train the zoo model on the data set's training split with
 * the trial's parameters (`lr`, `optimizer`, `momentum`, `weightDecay`, `batchSize`, the rest
 * passed to the zoo factory) for `epochs` epochs with `fit`, reporting the validation accuracy
 * after every epoch (the pruner may stop it there), and return the last validation accuracy.
 * The data set's test split is never read.
 */
export function tuneObjective(config: TuneObjectiveConfig): Objective {
  return async (trial) => {
    const { data, train, validation } = await prepared(config);
    const p = trial as unknown as Trial;
    const optimizer =
      param(p, 'optimizer', isOptimizer, `one of ${OPTIMIZERS.join(', ')}`) ?? 'adam';
    const lr = param(p, 'lr', isNumber, 'a number') ?? (optimizer === 'sgd' ? 0.05 : 2e-3);
    const momentum = param(p, 'momentum', isNumber, 'a number');
    const weightDecay = param(p, 'weightDecay', isNumber, 'a number');
    const batchSize =
      param(
        p,
        'batchSize',
        (v): v is number => Number.isInteger(v) && (v as number) > 0,
        'a positive integer',
      ) ?? config.batchSize;
    const modelOptions = Object.fromEntries(
      Object.entries(trial.params).filter(
        ([k]) => !(TRAINING_PARAMS as readonly string[]).includes(k),
      ),
    );
    manualSeed(config.seed + trial.number);
    const [h, w, c] = data.inputSize;
    const model = createZooModel(config.model, {
      ...modelOptions,
      numClasses: data.classNames.length,
      inChannels: c,
    });
    model.outputShape([1, h, w, c]);
    const opt = makeOptimizer(optimizer, model.trainableVariables(), { lr, momentum, weightDecay });
    try {
      const trainIndices = config.steps ? train.subarray(0, config.steps * batchSize) : train;
      const { history } = await fit(model, {
        data: new DataLoader(subset(data.train, trainIndices), {
          batchSize,
          shuffle: true,
          seed: config.seed,
          transform: transformsFor(data, 'none', true),
        }),
        validationData: new DataLoader(subset(data.train, validation), {
          batchSize: 250,
          transform: transformsFor(data, 'none', false),
        }),
        optimizer: opt,
        epochs: config.epochs,
        metrics: ['accuracy'],
        callbacks: [new TrialReporter(p as Trial<unknown>, { monitor: 'val_accuracy' })],
      });
      const last = history.at(-1)?.valMetrics?.accuracy;
      if (last === undefined) throw new Error('tune: training ended before its first epoch');
      return last;
    } finally {
      opt.dispose();
      model.dispose();
    }
  };
}

// A `worker_threads` runner loads this module in each thread (the built `dist/tune-objective.js`):
// `setup` selects the thread's own backend, `objective` reads the study's config, which the
// coordinator put in the environment (a thread starts with a copy of it).
function configFromEnv(): TuneObjectiveConfig {
  const raw = process.env[CONFIG_ENV];
  if (!raw) throw new Error(`tune: ${CONFIG_ENV} is not set in this thread`);
  return JSON.parse(raw) as TuneObjectiveConfig;
}

/** Run once per worker thread. */
export async function setup(): Promise<void> {
  await selectBackend({ backend: configFromEnv().backend });
}

let threadObjective: Objective | undefined;

/** The objective a worker thread runs. */
export function objective(trial: Trial): Promise<number> {
  threadObjective ??= tuneObjective(configFromEnv());
  return Promise.resolve(threadObjective(trial));
}
