import { mkdir, writeFile } from 'node:fs/promises';
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
  FASHION_MNIST_CLASSES,
  type InMemoryDataset,
  type LoadFashionMnistOptions,
  loadFashionMnist,
  normalize,
  stratifiedSplit,
  subset,
} from '@convkit/data';
import { confusionMatrix } from '@convkit/losses';
import { Adam, CosineAnnealingLR } from '@convkit/optimizers';
import {
  CSVLogger,
  type EpochLogs,
  evaluate,
  type FitResult,
  fit,
  ModelCheckpoint,
  ProgressBar,
  predict,
  type TextStream,
} from '@convkit/train';
import { lenet5 } from './lenet5';

/** Fashion-MNIST's training-set pixel mean and standard deviation (of the [0, 1] values). */
const MEAN = 0.286;
const STD = 0.353;

export interface MainJobOptions {
  backend: 'auto' | BackendName;
  epochs: number;
  batchSize: number;
  seed: number;
  /** Adam's learning rate. Default 2e-3. */
  lr?: number;
  /** Smoke mode: train on `steps * batchSize` images per epoch instead of the 55,000. */
  steps?: number;
  /** Evaluate on the first `testSamples` test images (default: all 10,000). */
  testSamples?: number;
  /** Validation images held out of the training set (stratified). Default 5000. */
  validationSamples?: number;
  /** Where the run's files go. Default `.convkit/runs/<timestamp>` in the working directory. */
  runDir?: string;
  /** A directory holding the four Fashion-MNIST files (otherwise the usual places, then a
   * checksummed download). */
  dataPath?: string;
  log: (line: string) => void;
  /** The progress bar's stream (default stdout); null for none. */
  progress?: TextStream | null;
}

export interface MainJobResult {
  report: BackendReport;
  history: EpochLogs[];
  stopReason: FitResult['stopReason'];
  test: { loss: number; accuracy: number; samples: number };
  confusion: number[][];
  runDir: string;
  seconds: { total: number; training: number; perEpoch: number };
}

/**
 * The README's main job: LeNet-5 on Fashion-MNIST with @convkit/train. Selects the best backend,
 * loads the data (normalized; 55,000 training and 5,000 stratified validation images), trains
 * with Adam and a progress bar, evaluates on the 10,000 test images, prints the confusion matrix
 * with class names, and writes the checkpoint (best and last), `metrics.csv` and `metrics.json`
 * into `.convkit/runs/<timestamp>/`.
 */
export async function runMainJob(options: MainJobOptions): Promise<MainJobResult> {
  const started = performance.now();
  const report = await selectBackend({ backend: options.backend });
  options.log(formatBackendReport(report));
  if (!report.capabilities.canTrainConvNets) {
    throw new Error(
      `main job: backend '${report.backend}' cannot train conv nets (missing ${report.capabilities.missingTrainingKernels.join(', ')})`,
    );
  }
  manualSeed(options.seed);
  const runDir = resolve(
    options.runDir ?? join('.convkit', 'runs', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  await mkdir(runDir, { recursive: true });

  // Data: a stratified validation split of the training set, the test set, all normalized.
  const source: LoadFashionMnistOptions = options.dataPath
    ? { path: options.dataPath }
    : { download: true };
  const trainAll = await loadFashionMnist({ ...source, split: 'train' });
  const testAll = await loadFashionMnist({ ...source, split: 'test' });
  const validationSize = Math.min(options.validationSamples ?? 5000, trainAll.length - 1);
  const [trainIdx, valIdx] = stratifiedSplit(trainAll.labels, {
    sizes: [trainAll.length - validationSize, validationSize],
    seed: options.seed,
  });
  const trainSet = options.steps
    ? subset(trainAll, trainIdx.subarray(0, options.steps * options.batchSize))
    : subset(trainAll, trainIdx);
  const valSet = subset(trainAll, valIdx);
  const testCount = Math.min(options.testSamples ?? testAll.length, testAll.length);
  const testSet = subset(
    testAll,
    Int32Array.from({ length: testCount }, (_, i) => i),
  );
  const transform = normalize({ mean: MEAN, std: STD });
  const train = new DataLoader(trainSet, {
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    transform,
  });
  const evalLoader = (dataset: typeof valSet) =>
    new DataLoader(dataset, { batchSize: 500, transform, prefetch: 1 });
  options.log(
    `data: Fashion-MNIST, ${trainSet.length} training, ${valSet.length} validation, ${testSet.length} test images (normalized, mean ${MEAN}, std ${STD})`,
  );

  const model = lenet5(FASHION_MNIST_CLASSES.length);
  const lr = options.lr ?? 2e-3;
  const optimizer = new Adam(model.trainableVariables(), { lr });
  // Cosine annealing to 0 over the whole run, stepped after every optimizer step.
  const schedule = new CosineAnnealingLR(optimizer, { tMax: options.epochs * train.length });
  options.log(
    `model: LeNet-5 (${model
      .trainableVariables()
      .reduce(
        (n, v) => n + v.size,
        0,
      )} parameters), Adam lr ${lr} with cosine annealing per step, batch ${options.batchSize}, ${options.epochs} epoch(s)`,
  );

  const trainStart = performance.now();
  const callbacks = [
    new CSVLogger(join(runDir, 'metrics.csv')),
    new ModelCheckpoint({
      dir: join(runDir, 'checkpoint'),
      monitor: 'val_accuracy',
      extra: { classNames: [...FASHION_MNIST_CLASSES], mean: MEAN, std: STD },
    }),
  ];
  const result = await fit(model, {
    data: train,
    optimizer,
    epochs: options.epochs,
    schedule,
    scheduleStep: 'batch',
    metrics: ['accuracy'],
    validationData: evalLoader(valSet),
    callbacks:
      options.progress === null
        ? callbacks
        : [new ProgressBar(options.progress ? { stream: options.progress } : {}), ...callbacks],
  });
  const trainingSeconds = (performance.now() - trainStart) / 1000;

  // Test set: loss and accuracy, then the predictions for the confusion matrix.
  const test = await evaluate(model, evalLoader(testSet), { metrics: ['accuracy'] });
  const logits = await predict(model, evalLoader(testSet));
  const confusion = await confusionMatrix(logits, testLabels(testSet, testAll), {
    numClasses: FASHION_MNIST_CLASSES.length,
  });
  logits.dispose();
  options.log(
    `test: loss ${test.loss.toFixed(4)}, accuracy ${(test.metrics.accuracy * 100).toFixed(2)}% on ${test.samples} images`,
  );
  options.log(formatConfusion(confusion, FASHION_MNIST_CLASSES));

  const totalSeconds = (performance.now() - started) / 1000;
  const seconds = {
    total: totalSeconds,
    training: trainingSeconds,
    perEpoch: result.history.length ? trainingSeconds / result.history.length : Number.NaN,
  };
  const summary = {
    backend: report.backend,
    options: {
      epochs: options.epochs,
      batchSize: options.batchSize,
      seed: options.seed,
      lr,
      steps: options.steps ?? null,
    },
    history: result.history,
    stopReason: result.stopReason,
    test: { loss: test.loss, accuracy: test.metrics.accuracy, samples: test.samples },
    confusionMatrix: {
      classNames: FASHION_MNIST_CLASSES,
      rows: 'true class',
      columns: 'predicted class',
      matrix: confusion,
    },
    seconds,
  };
  await writeFile(join(runDir, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
  options.log(
    `time: ${seconds.total.toFixed(1)} s total, ${seconds.perEpoch.toFixed(1)} s per epoch; run files in ${runDir}`,
  );
  optimizer.dispose();
  model.dispose();
  return {
    report,
    history: result.history,
    stopReason: result.stopReason,
    test: summary.test,
    confusion,
    runDir,
    seconds,
  };
}

function testLabels(testSet: { length: number }, testAll: InMemoryDataset): Int32Array {
  return testAll.labels.subarray(0, testSet.length);
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
