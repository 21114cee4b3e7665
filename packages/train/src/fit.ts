import { refuseUnknownOptions } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';
import type { BatchLogs, Callback, EpochLogs, StopReason, TrainingContext } from './callback';
import { loadCheckpoint } from './checkpoint';
import { evaluate } from './evaluate';
import { History } from './history';
import { batchLoop, batchStatistics, RunningMeans } from './internal/batch-loop';
import { batchCount, batchOf, checkDataSource, ownsBatches } from './internal/batches';
import { CallbackDispatcher } from './internal/callback-dispatcher';
import { GradientAccumulator } from './internal/gradient-accumulator';
import { batchLoss, resolveLoss } from './internal/loss';
import { splitOutput } from './internal/outputs';
import { releaseTapeAfterError } from './internal/tape';
import { LearningRateScheduler } from './learning-rate-scheduler';
import type { LossName } from './loss-name';
import { type Metric, type MetricSpec, resolveMetrics } from './metrics';
import type {
  Batch,
  DataSource,
  LossFunction,
  Schedule,
  TrainableModel,
  TrainOptimizer,
} from './types';

export interface FitOptions {
  /** Training batches, iterated once per epoch. */
  data: DataSource<Batch>;
  /** A convkit optimizer over (at least) the model's trainable variables. */
  optimizer: TrainOptimizer;
  /** Total epochs, counted from 0 (a resumed run continues up to this). Default 1. */
  epochs?: number;
  /** Epoch to start at (set from the checkpoint when resuming). Default 0. */
  initialEpoch?: number;
  /** `(prediction, target) => scalar`, or a name from `@convkit/losses`. Default `'crossEntropy'`. */
  loss?: LossFunction | LossName;
  /** Streamed over each epoch, on training and validation data. */
  metrics?: MetricSpec[];
  /** Evaluated (in eval mode) after each epoch. */
  validationData?: DataSource<Batch>;
  /** An LR schedule, stepped after every epoch or every optimizer step (`scheduleStep`). */
  schedule?: Schedule;
  /** Default `'epoch'`. */
  scheduleStep?: 'epoch' | 'batch';
  /**
   * Per-class loss weights `[C]`: the loss becomes sum_i w[y_i] l_i / sum_i w[y_i] (PyTorch's
   * weighted mean). The loss must honour `{ reduction: 'none' }` (every convkit loss does).
   */
  classWeight?: ArrayLike<number>;
  /**
   * Micro-batches per optimizer step (default 1). Gradients are summed weighted by each
   * micro-batch's size (or class-weight total) and divided by the total, so N micro-batches give
   * the gradient of one batch N times as large for mean losses (BatchNorm statistics aside).
   */
  accumulateSteps?: number;
  /** Weight of each auxiliary output's loss: total = main + w * sum(aux). Default 0.3 (GoogLeNet). */
  auxLossWeight?: number;
  callbacks?: Callback[];
  /** Stop after the current batch (the partial epoch is not logged). */
  signal?: AbortSignal;
  /** Restore model, optimizer, schedule, callbacks, data and random state from this checkpoint
   * directory, then continue from its epoch. */
  resumeFrom?: string;
  /** Dispose each batch after use. Default: true, except for arrays of batches (reused). */
  disposeBatches?: boolean;
  /** Yield to the event loop every this many batches (default 1). */
  yieldEvery?: number;
}

export interface FitResult {
  /** Epoch logs, including epochs restored from a checkpoint. */
  history: EpochLogs[];
  /**
   * One series per logged value under the names monitors and CSV columns use (`loss`,
   * `accuracy`, `val_loss`, `val_accuracy`, `lr`), as Keras's `history.history`.
   */
  series: Record<string, number[]>;
  /** Epochs completed by this call. */
  epochsRun: number;
  stopReason: StopReason;
}

/**
 * Train `model` (any convkit Module, or anything with `forward` and `trainableVariables`).
 *
 * Each step is one `tf.tidy` around forward, loss, `tf.variableGrads` and the optimizer step;
 * the loss (packed with the metrics' statistics) is read back once per step with
 * `await data()`, and the loop yields to the event loop between batches, so a browser tab stays
 * responsive. The tensor count is the same after every epoch.
 */
export async function fit(model: TrainableModel, options: FitOptions): Promise<FitResult> {
  const o = checkFitOptions(model, options);
  const lossFn = resolveLoss(options.loss);
  const metrics = resolveMetrics(options.metrics);
  const history = new History();
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if (options.schedule) {
    callbacks.push(new LearningRateScheduler(options.schedule, { stepOn: o.scheduleStep }));
  }
  callbacks.push(history);
  const dispatcher = new CallbackDispatcher(callbacks);
  const byName = dispatcher.byName;
  const schedule =
    options.schedule ??
    (
      dispatcher.callbacks.find((c) => c instanceof LearningRateScheduler) as
        | LearningRateScheduler
        | undefined
    )?.schedule;

  let initialEpoch = o.initialEpoch;
  const previous: EpochLogs[] = [];
  if (options.resumeFrom !== undefined) {
    const restored = await loadCheckpoint(options.resumeFrom, {
      model,
      optimizer: options.optimizer,
      schedule,
      data: options.data,
      callbacks: byName,
    });
    initialEpoch = restored.epoch;
    previous.push(...restored.history);
  }
  history.epochs.splice(0, history.epochs.length, ...previous);

  const context: TrainingContext = {
    model,
    optimizer: options.optimizer,
    data: options.data,
    history: history.epochs,
    params: {
      epochs: o.epochs,
      initialEpoch,
      batchesPerEpoch: batchCount(options.data),
      accumulateSteps: o.accumulateSteps,
      metrics: metrics.map((m) => m.name),
      hasValidation: options.validationData !== undefined,
    },
    callbacks: byName,
    schedule,
    stopReason: undefined,
    stop(reason: StopReason = 'callback') {
      this.stopReason ??= reason;
    },
  };
  const wasTraining = model.training ?? true;
  const classWeight = options.classWeight
    ? tf.tensor1d(Array.from(options.classWeight), 'float32')
    : null;
  const loop: Loop = {
    model,
    optimizer: options.optimizer,
    lossFn,
    metrics,
    classWeight,
    auxLossWeight: o.auxLossWeight,
    accumulator: new GradientAccumulator(o.accumulateSteps),
    owns: ownsBatches(options.data, options.disposeBatches),
    yieldEvery: o.yieldEvery,
    signal: options.signal,
    optimizerSteps: 0,
  };
  let epochsRun = 0;
  try {
    await dispatcher.call('onTrainBegin', context);
    for (let epoch = initialEpoch; epoch < o.epochs; epoch++) {
      if (options.signal?.aborted) context.stop('abort');
      if (context.stopReason) break;
      model.train();
      await dispatcher.call('onEpochBegin', epoch, context);
      const logs = await runEpoch(loop, epoch, context, dispatcher);
      // A stop during the epoch (abort, NaN, a callback) leaves the partial epoch unlogged.
      if (context.stopReason) break;
      context.params.batchesPerEpoch ??= logs.batches;
      if (options.validationData !== undefined) {
        const val = await evaluate(model, options.validationData, {
          loss: lossFn,
          metrics,
          signal: options.signal,
          disposeBatches: options.disposeBatches,
        });
        model.train();
        logs.valLoss = val.loss;
        logs.valMetrics = val.metrics;
      }
      epochsRun += 1;
      await dispatcher.call('onEpochEnd', logs, context);
    }
    if (options.signal?.aborted) context.stop('abort');
    await dispatcher.call('onTrainEnd', context);
  } finally {
    classWeight?.dispose();
    model.train(wasTraining);
  }
  return {
    history: history.epochs,
    series: history.series(),
    epochsRun,
    stopReason: context.stopReason ?? 'completed',
  };
}

interface Loop {
  model: TrainableModel;
  optimizer: TrainOptimizer;
  lossFn: LossFunction;
  metrics: Metric[];
  classWeight: tf.Tensor | null;
  auxLossWeight: number;
  accumulator: GradientAccumulator;
  owns: boolean;
  yieldEvery: number;
  signal: AbortSignal | undefined;
  optimizerSteps: number;
}

async function runEpoch(
  loop: Loop,
  epoch: number,
  context: TrainingContext,
  callbacks: CallbackDispatcher,
): Promise<EpochLogs> {
  const start = performance.now();
  const lr = currentLr(loop.optimizer);
  const variables = loop.model.trainableVariables();
  if (variables.length === 0) throw new Error('fit: the model has no trainable variables');
  const means = new RunningMeans(loop.metrics);
  const afterStep = async () => {
    loop.optimizerSteps += 1;
    await callbacks.call('onOptimizerStep', loop.optimizerSteps, context);
  };
  try {
    const batches = await batchLoop({
      data: context.data,
      owns: loop.owns,
      signal: loop.signal,
      yieldEvery: loop.yieldEvery,
      onAbort: () => context.stop('abort'),
      before: (batch) => callbacks.call('onBatchBegin', epoch, batch, context),
      run: (value, batch) => {
        const { x, y } = batchOf('fit', value, batch);
        const { packed, sizes, grads, weight } = trainStep(loop, variables, x, y);
        loop.accumulator.add(grads, weight);
        // Stepping before the read-back lets the device run the update while the loss is read.
        const stepped = loop.accumulator.ready;
        try {
          if (stepped) loop.accumulator.step(loop.optimizer);
        } catch (error) {
          packed.dispose();
          throw error;
        }
        return { n: x.shape[0], packed, sizes, stepped };
      },
      after: async ({ n, packed, sizes, stepped }, batch) => {
        const values = await packed.data();
        packed.dispose();
        if (stepped) await afterStep();
        means.add(n, values, sizes);
        await callbacks.call(
          'onBatchEnd',
          {
            epoch,
            batch,
            size: n,
            loss: values[0],
            running: { loss: means.loss, metrics: means.results() },
            lr: currentLr(loop.optimizer),
            samples: means.samples,
            seconds: (performance.now() - start) / 1000,
          } satisfies BatchLogs,
          context,
        );
        return context.stopReason !== undefined;
      },
    });
    if (loop.accumulator.count > 0 && !context.stopReason) {
      // A partial accumulation at the end of the epoch still makes a step.
      loop.accumulator.step(loop.optimizer);
      await afterStep();
    }
    if (batches === 0 && !context.stopReason)
      throw new Error(`fit: the data yielded no batches in epoch ${epoch}`);
    return {
      epoch,
      loss: means.loss,
      metrics: means.results(),
      lr,
      samples: means.samples,
      batches,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    // A stop or an error mid-accumulation drops the gradients not yet stepped.
    loop.accumulator.dispose();
  }
}

/**
 * Forward, loss (plus weighted auxiliary losses) and gradients of one batch, in one tidy; the
 * optimizer step is the caller's. Returns the gradients, the loss weight (the batch size, or its
 * class-weight total) and `[loss, ...metric statistics]` packed into one tensor, so that the
 * step reads back once.
 */
function trainStep(
  loop: Loop,
  variables: tf.Variable[],
  x: tf.Tensor,
  y: tf.Tensor,
): { packed: tf.Tensor; sizes: number[]; grads: tf.NamedTensorMap; weight: tf.Scalar } {
  // Tensors made inside the differentiated function survive its inner tidy only if kept; they
  // are freed here once packed.
  const kept: tf.Tensor[] = [];
  const sizes: number[] = [];
  try {
    const out = tf.tidy(() => {
      let weight: tf.Scalar | undefined;
      let stats: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const { main, aux } = splitOutput(loop.model.forward(x), 'fit');
        const primary = batchLoss(loop.lossFn, main, y, loop.classWeight);
        let total: tf.Scalar = primary.loss;
        for (const output of aux) {
          const extra = batchLoss(loop.lossFn, output, y, loop.classWeight).loss;
          total = tf.add(total, tf.mul(extra, loop.auxLossWeight));
        }
        weight = tf.keep(primary.weight);
        stats = batchStatistics(loop.metrics, main, y).map((s) => tf.keep(s));
        kept.push(weight, ...stats);
        return total;
      }, variables);
      for (const s of stats) sizes.push(s.size);
      const packed = tf.concat([tf.reshape(value, [1]), ...stats]);
      return { packed, grads, weight: tf.clone(weight!) as tf.Scalar };
    });
    return { ...out, sizes };
  } catch (error) {
    releaseTapeAfterError();
    throw error;
  } finally {
    tf.dispose(kept);
  }
}

/** The learning rate of the first parameter group (NaN when the optimizer has none). */
export function currentLr(optimizer: TrainOptimizer): number {
  return optimizer.paramGroups?.[0]?.lr ?? Number.NaN;
}

/** Every option of `fit`, so that a misspelt or Keras-only one (`verbose`) is refused. */
const FIT_OPTIONS = Object.keys({
  data: true,
  optimizer: true,
  epochs: true,
  initialEpoch: true,
  loss: true,
  metrics: true,
  validationData: true,
  schedule: true,
  scheduleStep: true,
  classWeight: true,
  accumulateSteps: true,
  auxLossWeight: true,
  callbacks: true,
  signal: true,
  resumeFrom: true,
  disposeBatches: true,
  yieldEvery: true,
} satisfies Record<keyof FitOptions, true>);

function checkFitOptions(model: TrainableModel, options: FitOptions) {
  refuseUnknownOptions('fit', options, FIT_OPTIONS);
  const fail = (what: string, expected: string, received: unknown): never => {
    throw new Error(`fit: expected ${what} to be ${expected}, received ${String(received)}`);
  };
  if (
    model == null ||
    typeof model.forward !== 'function' ||
    typeof model.trainableVariables !== 'function'
  ) {
    fail('model', 'a convkit Module (forward, trainableVariables)', model);
  }
  if (options == null || typeof options !== 'object') fail('options', 'an object', options);
  checkDataSource('fit', 'data', options.data);
  if (options.validationData !== undefined) {
    checkDataSource('fit', 'validationData', options.validationData);
  }
  if (options.optimizer == null || typeof options.optimizer.step !== 'function') {
    fail('optimizer', 'a convkit optimizer (with step(grads))', options.optimizer);
  }
  const int = (name: string, value: unknown, min: number, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min) fail(name, `an integer >= ${min}`, v);
    return v as number;
  };
  const epochs = int('epochs', options.epochs, 0, 1);
  const initialEpoch = int('initialEpoch', options.initialEpoch, 0, 0);
  const accumulateSteps = int('accumulateSteps', options.accumulateSteps, 1, 1);
  const yieldEvery = int('yieldEvery', options.yieldEvery, 1, 1);
  const auxLossWeight = options.auxLossWeight ?? 0.3;
  if (typeof auxLossWeight !== 'number' || !Number.isFinite(auxLossWeight)) {
    fail('auxLossWeight', 'a finite number', auxLossWeight);
  }
  const scheduleStep = options.scheduleStep ?? 'epoch';
  if (scheduleStep !== 'epoch' && scheduleStep !== 'batch') {
    fail('scheduleStep', "'epoch' or 'batch'", scheduleStep);
  }
  if (options.schedule !== undefined && typeof options.schedule?.step !== 'function') {
    fail('schedule', 'an LR schedule with step()', options.schedule);
  }
  if (options.classWeight !== undefined) {
    const w = Array.from(options.classWeight ?? []);
    if (w.length === 0 || w.some((v) => !(Number.isFinite(v) && v >= 0))) {
      fail('classWeight', 'a non-empty array of finite weights >= 0', `[${w.join(', ')}]`);
    }
  }
  return { epochs, initialEpoch, accumulateSteps, yieldEvery, auxLossWeight, scheduleStep };
}
