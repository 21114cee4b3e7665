import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type BackendName,
  type BackendReport,
  formatBackendReport,
  manualSeed,
  selectBackend,
} from '@convkit/backend';
import {
  DataLoader,
  type Dataset,
  type LabeledImage,
  stratifiedSplit,
  subset,
} from '@convkit/data';
import { confusionMatrix } from '@convkit/losses';
import {
  Adam,
  AdamW,
  type BaseOptimizerOptions,
  CosineAnnealingLR,
  OneCycleLR,
  type Optimizer,
  SGD,
  StepLR,
} from '@convkit/optimizers';
import {
  CSVLogger,
  type EpochLogs,
  evaluate,
  type FitResult,
  fit,
  ModelCheckpoint,
  ProgressBar,
  predict,
  type Schedule,
  TerminateOnNaN,
  type TextStream,
  writeFileAtomic,
} from '@convkit/train';
import { writeGallery } from '@convkit/visualization';
import { createZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Augmentation,
  type DatasetSpec,
  type LoadedData,
  loadData,
  transformsFor,
} from './datasets';

export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export const SCHEDULES = ['cosine', 'step', 'onecycle', 'none'] as const;

export interface TrainJobOptions {
  backend: 'auto' | BackendName;
  /** A zoo factory name (`lenet5`, `cifarResnet20`, `resnet18`, ...). */
  model: string;
  dataset: DatasetSpec;
  epochs: number;
  batchSize: number;
  seed: number;
  lr: number;
  optimizer?: (typeof OPTIMIZERS)[number];
  /** SGD momentum (default 0.9). */
  momentum?: number;
  weightDecay?: number;
  /** Learning-rate schedule, stepped after every optimizer step. Default 'cosine'. */
  schedule?: (typeof SCHEDULES)[number];
  augmentation?: Augmentation;
  /** Resize the images to this side (default: the data set's own size). */
  imageSize?: number;
  /** Smoke mode: `steps * batchSize` training images per epoch. */
  steps?: number;
  /** Evaluate on the first `testSamples` test images (default all). */
  testSamples?: number;
  /** Validation images held out of the training set (stratified). Default 5000. */
  validationSamples?: number;
  /** Where the run's files go. Default `.convkit/runs/<timestamp>`. */
  runDir?: string;
  /** Also look inside the trained model: write `<runDir>/gallery/` (feature maps, filters,
   * reconstructions, attributions, charts) from the first test images. */
  gallery?: boolean;
  /** A checkpoint directory (`<run>/checkpoint/last`) to resume from. */
  resume?: string;
  log: (line: string) => void;
  /** The progress bar's stream (default stdout); null for none. */
  progress?: TextStream | null;
}

export interface TrainJobResult {
  report: BackendReport;
  history: EpochLogs[];
  stopReason: FitResult['stopReason'];
  test: { loss: number; accuracy: number; samples: number } | null;
  confusion: number[][] | null;
  runDir: string;
  seconds: { total: number; training: number; perEpoch: number };
}

/** Training stopped because the loss or the weights became NaN or infinite. */
export class TrainingDivergedError extends Error {
  constructor(
    message: string,
    readonly runDir: string,
  ) {
    super(message);
    this.name = 'TrainingDivergedError';
  }
}

/**
 * Train a zoo model on a data set: backend report, stratified validation split, seeded loaders,
 * the optimizer and schedule asked for, a progress bar, `last/` and `best/` checkpoints (by
 * validation accuracy), `metrics.csv`, a test-set evaluation with the confusion matrix, and
 * `metrics.json` (written atomically). A NaN or infinite loss or weight stops the run
 * (`TerminateOnNaN`: nothing non-finite is checkpointed) and throws `TrainingDivergedError`
 * after `metrics.json` records where.
 */
export async function runTrainJob(options: TrainJobOptions): Promise<TrainJobResult> {
  const started = performance.now();
  const report = await selectBackend({ backend: options.backend });
  options.log(formatBackendReport(report));
  if (!report.capabilities.canTrainConvNets) {
    throw new Error(
      `train: backend '${report.backend}' cannot train conv nets (missing ${report.capabilities.missingTrainingKernels.join(', ')})`,
    );
  }
  manualSeed(options.seed);
  const runDir = resolve(
    options.runDir ?? join('.convkit', 'runs', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  await mkdir(runDir, { recursive: true });

  const data = await loadData(options.dataset, {
    imageSize: options.imageSize,
    seed: options.seed,
  });
  const { trainSet, valSet, testSet } = splits(data, options);
  const augmentation = options.augmentation ?? 'none';
  const train = new DataLoader(trainSet, {
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    transform: transformsFor(data, augmentation, true),
  });
  const evalTransform = transformsFor(data, 'none', false);
  const evalLoader = (dataset: Dataset<LabeledImage>) =>
    new DataLoader(dataset, { batchSize: 250, transform: evalTransform, prefetch: 1 });
  options.log(
    `data: ${data.name}, ${trainSet.length} training, ${valSet.length} validation, ${testSet?.length ?? 0} test images (${data.inputSize.join('x')}, normalized, mean ${data.mean.join('/')}, std ${data.std.join('/')}, augmentation ${augmentation})`,
  );

  const [h, w, c] = data.inputSize;
  const model = createZooModel(options.model, {
    numClasses: data.classNames.length,
    inChannels: c,
  });
  // Refuse an input the architecture cannot take before any training starts.
  model.outputShape([1, h, w, c]);
  const optimizerName = options.optimizer ?? 'adam';
  const optimizer = makeOptimizer(optimizerName, model.trainableVariables(), options);
  const totalSteps = options.epochs * train.length;
  const scheduleName = options.schedule ?? 'cosine';
  const schedule = makeSchedule(scheduleName, optimizer, options.lr, totalSteps);
  const parameters = model.trainableVariables().reduce((n, v) => n + v.size, 0);
  options.log(
    `model: ${model.info.name} (${parameters} parameters), ${optimizerName} lr ${options.lr}${scheduleName === 'none' ? '' : ` with ${scheduleName} schedule per step`}, batch ${options.batchSize}, ${options.epochs} epoch(s)${options.resume ? `, resuming from ${options.resume}` : ''}`,
  );

  const extra = {
    model: options.model,
    classNames: data.classNames,
    mean: data.mean,
    std: data.std,
    inputSize: data.inputSize,
  };
  const stopper = new TerminateOnNaN();
  const callbacks = [
    stopper,
    new CSVLogger(join(runDir, 'metrics.csv')),
    new ModelCheckpoint({ dir: join(runDir, 'checkpoint'), monitor: 'val_accuracy', extra }),
  ];
  const trainStart = performance.now();
  let result: FitResult;
  try {
    result = await fit(model, {
      data: train,
      optimizer,
      epochs: options.epochs,
      schedule: schedule ?? undefined,
      scheduleStep: 'batch',
      metrics: ['accuracy'],
      validationData: evalLoader(valSet),
      resumeFrom: options.resume,
      callbacks:
        options.progress === null
          ? callbacks
          : [new ProgressBar(options.progress ? { stream: options.progress } : {}), ...callbacks],
    });
  } catch (error) {
    optimizer.dispose();
    model.dispose();
    throw error;
  }
  const trainingSeconds = (performance.now() - trainStart) / 1000;
  const seconds = {
    total: 0,
    training: trainingSeconds,
    perEpoch: result.history.length ? trainingSeconds / result.history.length : Number.NaN,
  };
  const summary: Record<string, unknown> = {
    backend: report.backend,
    model: options.model,
    dataset: data.name,
    options: {
      epochs: options.epochs,
      batchSize: options.batchSize,
      seed: options.seed,
      lr: options.lr,
      optimizer: optimizerName,
      schedule: scheduleName,
      augmentation,
      steps: options.steps ?? null,
      resume: options.resume ?? null,
    },
    history: result.history,
    stopReason: result.stopReason,
  };

  if (result.stopReason === 'nan') {
    const at = stopper.at;
    summary.diverged = at ?? null;
    seconds.total = (performance.now() - started) / 1000;
    summary.seconds = seconds;
    await writeFileAtomic(join(runDir, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
    optimizer.dispose();
    model.dispose();
    const where = at
      ? `${at.what} became ${at.loss} in epoch ${at.epoch + 1}${at.batch >= 0 ? `, batch ${at.batch + 1}` : ''}`
      : 'the loss became non-finite';
    throw new TrainingDivergedError(
      `training diverged: ${where}; no checkpoint of the non-finite weights was written (lower --lr?). Run files in ${runDir}`,
      runDir,
    );
  }

  let test: TrainJobResult['test'] = null;
  let confusion: number[][] | null = null;
  if (testSet && testSet.length > 0) {
    const evaluation = await evaluate(model, evalLoader(testSet), { metrics: ['accuracy'] });
    const logits = await predict(model, evalLoader(testSet));
    const labels = await labelsOf(testSet);
    confusion = await confusionMatrix(logits, labels, { numClasses: data.classNames.length });
    logits.dispose();
    test = {
      loss: evaluation.loss,
      accuracy: evaluation.metrics.accuracy,
      samples: evaluation.samples,
    };
    options.log(
      `test: loss ${test.loss.toFixed(4)}, accuracy ${(test.accuracy * 100).toFixed(2)}% on ${test.samples} images`,
    );
    options.log(formatConfusion(confusion, data.classNames));
    if (options.gallery) {
      await writeRunGallery(model, testSet, evalTransform, {
        data,
        history: result.history,
        confusion,
        outDir: join(runDir, 'gallery'),
        log: options.log,
      });
    }
  }
  seconds.total = (performance.now() - started) / 1000;
  Object.assign(summary, {
    test,
    confusionMatrix: confusion && {
      classNames: data.classNames,
      rows: 'true class',
      columns: 'predicted class',
      matrix: confusion,
    },
    seconds,
  });
  await writeFileAtomic(join(runDir, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
  options.log(
    `time: ${seconds.total.toFixed(1)} s total, ${seconds.perEpoch.toFixed(1)} s per epoch; run files in ${runDir}`,
  );
  optimizer.dispose();
  model.dispose();
  return {
    report,
    history: result.history,
    stopReason: result.stopReason,
    test,
    confusion,
    runDir,
    seconds,
  };
}

/** How many test images the gallery draws from. */
const GALLERY_IMAGES = 32;

/**
 * `writeGallery` on the first test images, as the model sees them (normalized); logs what it
 * wrote and how closely each layer's features reconstruct the image.
 */
async function writeRunGallery(
  model: ReturnType<typeof createZooModel>,
  testSet: Dataset<LabeledImage>,
  transform: ReturnType<typeof transformsFor>,
  run: {
    data: LoadedData;
    history: EpochLogs[];
    confusion: number[][];
    outDir: string;
    log: (line: string) => void;
  },
): Promise<void> {
  const count = Math.min(GALLERY_IMAGES, testSet.length);
  const first = subset(
    testSet,
    Int32Array.from({ length: count }, (_, i) => i),
  );
  const loader = new DataLoader(first, { batchSize: count, transform });
  for await (const { x, y } of loader) {
    try {
      const { mean, std } = run.data;
      // The valid input range in normalized units (one channel's bounds suffice for the clamp).
      const low = Math.min(...mean.map((m, c) => -m / std[c]));
      const high = Math.max(...mean.map((m, c) => (1 - m) / std[c]));
      const gallery = await writeGallery(model.eval(), {
        images: x,
        labels: await y.data(),
        classNames: run.data.classNames,
        history: run.history,
        confusion: run.confusion,
        outDir: run.outDir,
        inputRange: [low, high],
      });
      run.log(`gallery: ${gallery.files.length} files in ${run.outDir}`);
      const fits = gallery.reconstructions.map(
        (r) => `${r.layer} (${r.type}) ${r.correlation.toFixed(3)}`,
      );
      run.log(
        `reconstruction from each layer's features, correlation with the image: ${fits.join(', ')}`,
      );
    } finally {
      tf.dispose([x, y]);
    }
  }
}

async function labelsOf(dataset: Dataset<LabeledImage>): Promise<Int32Array> {
  const known = (dataset as { labels?: Int32Array }).labels;
  if (known) return known;
  const labels = new Int32Array(dataset.length);
  for (let i = 0; i < dataset.length; i++) labels[i] = (await dataset.get(i)).label;
  return labels;
}

function splits(data: LoadedData, options: TrainJobOptions) {
  const all = data.train;
  const validationSize = Math.min(options.validationSamples ?? 5000, Math.floor(all.length / 2));
  const [trainIdx, valIdx] = stratifiedSplit(all.labels, {
    sizes: [all.length - validationSize, validationSize],
    seed: options.seed,
  });
  const trainSet = options.steps
    ? subset(all, trainIdx.subarray(0, options.steps * options.batchSize))
    : subset(all, trainIdx);
  const valSet = subset(all, valIdx);
  let testSet: Dataset<LabeledImage> | null = null;
  if (data.test) {
    const count = Math.min(options.testSamples ?? data.test.length, data.test.length);
    testSet = subset(
      data.test,
      Int32Array.from({ length: count }, (_, i) => i),
    );
  }
  return { trainSet, valSet, testSet };
}

/** The optimizer `train` (and each `tune` trial) uses: SGD momentum 0.9 and AdamW decay 0.01 by default. */
export function makeOptimizer(
  name: (typeof OPTIMIZERS)[number],
  params: ReturnType<ReturnType<typeof createZooModel>['trainableVariables']>,
  options: Pick<TrainJobOptions, 'lr' | 'momentum' | 'weightDecay'>,
): Optimizer<BaseOptimizerOptions> {
  const weightDecay = options.weightDecay ?? 0;
  switch (name) {
    case 'adam':
      return new Adam(params, { lr: options.lr, weightDecay });
    case 'adamw':
      return new AdamW(params, { lr: options.lr, weightDecay: options.weightDecay ?? 0.01 });
    case 'sgd':
      return new SGD(params, { lr: options.lr, momentum: options.momentum ?? 0.9, weightDecay });
  }
}

function makeSchedule(
  name: (typeof SCHEDULES)[number],
  optimizer: Optimizer<BaseOptimizerOptions>,
  lr: number,
  totalSteps: number,
): Schedule | null {
  switch (name) {
    case 'cosine':
      return new CosineAnnealingLR(optimizer, { tMax: totalSteps });
    case 'step':
      return new StepLR(optimizer, {
        stepSize: Math.max(1, Math.floor(totalSteps / 3)),
        gamma: 0.1,
      });
    case 'onecycle':
      return new OneCycleLR(optimizer, { maxLr: lr, totalSteps });
    case 'none':
      return null;
  }
}

/** The confusion matrix as a table: rows are true classes, columns predicted ones. */
export function formatConfusion(matrix: number[][], names: readonly string[]): string {
  const width = Math.max(5, ...matrix.flat().map((v) => String(v).length)) + 1;
  const nameWidth = Math.max(...names.map((n) => n.length));
  const header = `${'true \\ predicted'.padEnd(nameWidth + 4)}${names.map((_, j) => String(j).padStart(width)).join('')}   recall`;
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total ? `${((row[i] / total) * 100).toFixed(1)}%` : '-';
    return `${String(i).padStart(2)}  ${names[i].padEnd(nameWidth)}  ${row.map((v) => String(v).padStart(width)).join('')}   ${recall.padStart(6)}`;
  });
  return ['confusion matrix (rows: true class, columns: predicted class):', header, ...rows].join(
    '\n',
  );
}
