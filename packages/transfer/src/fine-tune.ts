import { importFs } from '@convkit/backend';
import { Adam, LambdaLR, type ParamGroupSpec, SGD } from '@convkit/optimizers';
import {
  type Batch,
  type Callback,
  type DataSource,
  EarlyStopping,
  type FitResult,
  fit,
  type LossFunction,
  type LossName,
  type MetricSpec,
  ModelCheckpoint,
} from '@convkit/train';
import type { ZooModel } from '@convkit/zoo';
import type * as tf from '@tensorflow/tfjs-core';
import { freeze, ownerOf, parameterCounts, stageParameters, unfreeze } from './freeze';
import { isUnder } from './internal/paths';

export interface FineTuneOptions {
  data: DataSource<Batch>;
  validationData?: DataSource<Batch>;
  /** Default `'crossEntropy'`. */
  loss?: LossFunction | LossName;
  metrics?: MetricSpec[];
  /** `'adam'` (default) or `'sgd'` (momentum 0.9). */
  optimizer?: 'adam' | 'sgd';
  /** Weight decay of every group (default 0). */
  weightDecay?: number;
  /** Phase 1: epochs training the head alone, the encoder frozen (default 5; 0 skips it). */
  headEpochs?: number;
  /** Phase 1 learning rate (default 1e-3). */
  headLr?: number;
  /** Phase 2: epochs with the top stages unfrozen (default 5; 0 skips it). */
  fineTuneEpochs?: number;
  /** Phase 2: how many stages of `model.info.featureInfo`, from the top, to unfreeze (default 1). */
  unfreezeStages?: number;
  /** Phase 2 learning rate of the head (default 1e-4). */
  lr?: number;
  /**
   * Layer-wise LR decay (timm's `layer_decay`): the k-th unfrozen stage from the top trains
   * with `lr * layerDecay^k` (default 0.5; 1 gives every group the same lr).
   */
  layerDecay?: number;
  /** Phase 2: linear warmup over this many optimizer steps, from lr / warmupSteps (default 0). */
  warmupSteps?: number;
  /**
   * Early stopping in each phase on `val_loss` (needs `validationData`) with this patience;
   * the best weights are restored. Default: none.
   */
  patience?: number;
  /** Frozen BatchNorm layers keep batch statistics (see `freeze`). Default false. */
  keepBatchStatistics?: boolean;
  /**
   * Checkpoint directory (Node): `<dir>/head/last` and `<dir>/fine-tune/last` are written each
   * epoch through `@convkit/train`'s `ModelCheckpoint`; calling `fineTune` again with the same
   * directory resumes the unfinished phase (phase 1 is skipped once phase 2 has a checkpoint).
   */
  checkpointDir?: string;
  /** More callbacks for both phases. */
  callbacks?: Callback[];
}

export interface FineTuneResult {
  head: FitResult | null;
  fineTune: FitResult | null;
  /**
   * The learning rate of each phase-2 group, head first (with any layers between the last
   * stage and it), then the stages from the top.
   */
  groups: { prefix: string; lr: number; parameters: number }[];
}

function checkNumber(name: string, value: number, ok: (v: number) => boolean, expected: string) {
  if (typeof value !== 'number' || !ok(value)) {
    throw new Error(`fineTune: expected ${name} to be ${expected}, received ${value}`);
  }
}

async function exists(path: string): Promise<boolean> {
  const fs = await importFs();
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Two-phase transfer learning of a zoo model whose classifier was replaced (`resetClassifier`):
 * phase 1 trains the head alone with the encoder frozen (its BatchNorm in inference mode);
 * phase 2 unfreezes the top `unfreezeStages` stages of `model.info.featureInfo` and trains them
 * with the head, each stage in its own parameter group with a layer-wise decayed learning rate,
 * after an optional linear warmup. Everything is checked before any training: a phase with
 * nothing trainable is refused. Optimizers are disposed after their phase (no tensors leak);
 * the model's frozen / trainable state is left as phase 2 set it.
 */
export async function fineTune(model: ZooModel, options: FineTuneOptions): Promise<FineTuneResult> {
  const headEpochs = options.headEpochs ?? 5;
  const fineTuneEpochs = options.fineTuneEpochs ?? 5;
  const unfreezeStages = options.unfreezeStages ?? 1;
  const headLr = options.headLr ?? 1e-3;
  const lr = options.lr ?? 1e-4;
  const layerDecay = options.layerDecay ?? 0.5;
  const warmupSteps = options.warmupSteps ?? 0;
  const weightDecay = options.weightDecay ?? 0;
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  checkNumber('headEpochs', headEpochs, int, 'an integer >= 0');
  checkNumber('fineTuneEpochs', fineTuneEpochs, int, 'an integer >= 0');
  checkNumber('warmupSteps', warmupSteps, int, 'an integer >= 0');
  checkNumber('headLr', headLr, (v) => v > 0, 'a number > 0');
  checkNumber('lr', lr, (v) => v > 0, 'a number > 0');
  checkNumber('layerDecay', layerDecay, (v) => v > 0 && v <= 1, 'in (0, 1]');
  checkNumber('weightDecay', weightDecay, (v) => v >= 0, 'a number >= 0');
  const stages = model.info.featureInfo.map((f) => f.module);
  checkNumber(
    'unfreezeStages',
    unfreezeStages,
    (v) => int(v) && v <= stages.length,
    `an integer from 0 to ${stages.length} (${model.info.name}'s stages: ${stages.join(', ')})`,
  );
  if (headEpochs === 0 && fineTuneEpochs === 0) {
    throw new Error('fineTune: headEpochs and fineTuneEpochs are both 0: nothing to train');
  }
  if (options.patience !== undefined && !options.validationData) {
    throw new Error('fineTune: patience (early stopping on val_loss) needs validationData');
  }
  const head = model.info.classifier;
  const keys = model.namedParameters().map(([k]) => k);
  const headKeys = keys.filter((k) => isUnder(k, head));
  if (headKeys.length === 0) {
    throw new Error(
      `fineTune: nothing trainable: the classifier ${JSON.stringify(head)} of ${model.info.name} has no parameters (replace it with resetClassifier first)`,
    );
  }
  // Phase-2 groups: the head (with any layers between the last stage and it), then the top
  // stages, each with the parameters it owns (`stageParameters`).
  const owned = stageParameters(model, 'fineTune');
  const top = stages.slice(stages.length - unfreezeStages).reverse();
  const groupKeys: [string, string[]][] = [
    [head, owned.rest],
    ...top.map((stage): [string, string[]] => [stage, owned.stages.get(stage) ?? []]),
  ];
  for (const [prefix, group] of groupKeys) {
    if (group.length === 0) {
      throw new Error(`fineTune: stage ${JSON.stringify(prefix)} has no parameters to fine-tune`);
    }
  }
  const variableOf = new Map(model.namedParameters().map(([k, p]) => [k, p.variable]));

  const variablesUnder = (prefix: string) =>
    model
      .namedParameters()
      .filter(([k]) => isUnder(k, prefix))
      .map(([, p]) => p.variable);
  const makeOptimizer = (groups: ParamGroupSpec<{ lr: number }>[]) =>
    options.optimizer === 'sgd'
      ? new SGD(groups, { lr: groups[0].lr as number, momentum: 0.9, weightDecay })
      : new Adam(groups, { lr: groups[0].lr as number, weightDecay });
  const callbacks = (phase: string): Callback[] => [
    ...(options.callbacks ?? []),
    ...(options.patience !== undefined
      ? [
          new EarlyStopping({
            monitor: 'val_loss',
            patience: options.patience,
            restoreBestWeights: true,
          }),
        ]
      : []),
    ...(options.checkpointDir
      ? [new ModelCheckpoint({ dir: `${options.checkpointDir}/${phase}`, saveBest: false })]
      : []),
  ];
  const resumable = async (phase: string) =>
    options.checkpointDir !== undefined &&
    (await exists(`${options.checkpointDir}/${phase}/last/checkpoint.json`))
      ? `${options.checkpointDir}/${phase}/last`
      : undefined;
  const run = async (
    phase: string,
    epochs: number,
    groups: ParamGroupSpec<{ lr: number }>[],
    warmup: number,
  ) => {
    const optimizer = makeOptimizer(groups);
    const schedule =
      warmup > 0 ? new LambdaLR(optimizer, (step) => Math.min(1, (step + 1) / warmup)) : undefined;
    try {
      return await fit(model, {
        data: options.data,
        validationData: options.validationData,
        loss: options.loss,
        metrics: options.metrics,
        optimizer,
        schedule,
        scheduleStep: 'batch',
        epochs,
        callbacks: callbacks(phase),
        resumeFrom: await resumable(phase),
      });
    } finally {
      optimizer.dispose();
    }
  };

  const secondStarted = fineTuneEpochs > 0 && (await resumable('fine-tune')) !== undefined;
  let headResult: FitResult | null = null;
  if (headEpochs > 0 && !secondStarted) {
    freeze(model, { keepBatchStatistics: options.keepBatchStatistics });
    unfreeze(model, { paths: [head] });
    if (parameterCounts(model).trainable === 0) {
      throw new Error(
        `fineTune: nothing trainable in phase 1 (the head ${JSON.stringify(head)} is empty)`,
      );
    }
    headResult = await run('head', headEpochs, [{ params: variablesUnder(head), lr: headLr }], 0);
  }
  const groups: FineTuneResult['groups'] = [];
  let fineTuneResult: FitResult | null = null;
  if (fineTuneEpochs > 0) {
    freeze(model, { keepBatchStatistics: options.keepBatchStatistics });
    unfreeze(model, { paths: [...new Set(groupKeys.flatMap(([, keys]) => keys.map(ownerOf)))] });
    const specs: ParamGroupSpec<{ lr: number }>[] = [];
    groupKeys.forEach(([prefix, keys], depth) => {
      const params = keys.map((k) => variableOf.get(k) as tf.Variable);
      const groupLr = lr * layerDecay ** depth;
      groups.push({ prefix, lr: groupLr, parameters: params.reduce((s, v) => s + v.size, 0) });
      specs.push({ params, lr: groupLr });
    });
    fineTuneResult = await run('fine-tune', fineTuneEpochs, specs, warmupSteps);
  }
  return { head: headResult, fineTune: fineTuneResult, groups };
}
