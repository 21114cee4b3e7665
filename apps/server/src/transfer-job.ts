import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { manualSeed } from '@convkit/backend';
import { DataLoader, type Dataset, type LabeledImage, subset } from '@convkit/data';
import { evaluate, saveCheckpoint, writeFileAtomic } from '@convkit/train';
import { chooseHead, fineTune, type HeadRecommendation, resetClassifier } from '@convkit/transfer';
import type { ZooModel } from '@convkit/zoo';
import { type DatasetSpec, loadData, transformsFor } from './datasets';
import { loadModelDir } from './model-files';

export interface TransferJobOptions {
  /** The pretrained model: a checkpoint or run directory of a zoo model. */
  source: string;
  dataset: DatasetSpec;
  batchSize: number;
  seed: number;
  /** Phase 1 (head only) epochs; default 2. */
  headEpochs?: number;
  headLr?: number;
  /** Phase 2 epochs (top stages unfrozen); default 2; none when no stage is unfrozen. */
  fineTuneEpochs?: number;
  /** Stages unfrozen in phase 2; default `chooseHead`'s for the images per class. */
  unfreezeStages?: number;
  lr?: number;
  /** Smoke run: `steps * batchSize` training images. */
  steps?: number;
  /** Training images used (the first N); default all. */
  samples?: number;
  testSamples?: number;
  runDir?: string;
  log: (line: string) => void;
}

export interface TransferJobResult {
  runDir: string;
  checkpoint: string;
  plan: HeadRecommendation & { unfreezeStages: number };
  history: { head: unknown[]; fineTune: unknown[] };
  test: { loss: number; accuracy: number; samples: number } | null;
  classNames: string[];
}

/**
 * `convkit transfer`: a trained zoo model's encoder with a new Linear head for the data set's
 * classes (the stages unfrozen follow `chooseHead` of `@convkit/transfer`), phase 1 the head on the
 * frozen encoder, phase 2 the top stages unfrozen (`fineTune`), then test accuracy. The images
 * are resized to the source model's input size and normalized with its mean / std (the
 * statistics its encoder was trained on). Writes `<run>/checkpoint/last` (loadable by
 * `predict`, `evaluate`, `explain`, `serve`) and `<run>/metrics.json`.
 */
export async function runTransferJob(options: TransferJobOptions): Promise<TransferJobResult> {
  manualSeed(options.seed);
  const source = await loadModelDir(options.source);
  const model = source.model as unknown as ZooModel;
  try {
    if (!model.info?.featureInfo) {
      throw new Error(
        `transfer: '${options.source}' holds a ${source.architecture}, not a zoo model with stage metadata`,
      );
    }
    const [h, w, c] = source.inputSize;
    const data = await loadData(options.dataset, {
      imageSize: h,
      seed: options.seed,
      modelStats: { mean: source.mean, std: source.std },
    });
    if (data.inputSize[2] !== c) {
      throw new Error(
        `transfer: the data set has ${data.inputSize[2]} channel(s); the model '${source.name}' takes ${c}`,
      );
    }
    const stats = { ...data, mean: source.mean, std: source.std, inputSize: source.inputSize };
    const count = Math.min(
      options.samples ?? data.train.length,
      options.steps ? options.steps * options.batchSize : data.train.length,
      data.train.length,
    );
    const trainSet = subset(
      data.train,
      Int32Array.from({ length: count }, (_, i) => i),
    ) as Dataset<LabeledImage>;
    const classes = data.classNames.length;
    const plan = chooseHead(Math.max(1, Math.floor(count / classes)));
    const unfreezeStages = options.unfreezeStages ?? plan.unfreezeStages;
    options.log(
      `transfer: ${source.architecture} from ${source.dir} -> ${classes} classes of ${data.name} (${count} images); ${plan.reason} (the head is one Linear layer); unfreezing ${unfreezeStages} stage(s) in phase 2`,
    );
    // One Linear layer, whatever chooseHead's head: a checkpoint rebuilds a zoo model from its
    // config, which describes that head (resetClassifier updates config.numClasses).
    resetClassifier(model, classes);
    const loader = new DataLoader(trainSet, {
      batchSize: options.batchSize,
      shuffle: true,
      seed: options.seed,
      transform: transformsFor(stats, 'none', true),
    });
    const result = await fineTune(model, {
      data: loader,
      headEpochs: options.headEpochs ?? 2,
      headLr: options.headLr,
      // Nothing to unfreeze: phase 2 is skipped (fineTune wants a stage count >= 1 regardless).
      fineTuneEpochs: unfreezeStages > 0 ? (options.fineTuneEpochs ?? 2) : 0,
      unfreezeStages: Math.max(1, unfreezeStages),
      lr: options.lr,
      metrics: ['accuracy'],
    });
    model.eval();
    let test: TransferJobResult['test'] = null;
    if (data.test) {
      const n = Math.min(options.testSamples ?? data.test.length, data.test.length);
      const set = subset(
        data.test,
        Int32Array.from({ length: n }, (_, i) => i),
      );
      const r = await evaluate(
        model as never,
        new DataLoader(set, { batchSize: 250, transform: transformsFor(stats, 'none', false) }),
        { metrics: ['accuracy'] },
      );
      test = { loss: r.loss, accuracy: r.metrics.accuracy, samples: r.samples };
      options.log(
        `test: loss ${r.loss.toFixed(4)}, accuracy ${(r.metrics.accuracy * 100).toFixed(2)}% on ${r.samples} images`,
      );
    }
    const runDir = resolve(
      options.runDir ??
        join('.convkit', 'runs', `transfer-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    );
    await mkdir(runDir, { recursive: true });
    const checkpoint = join(runDir, 'checkpoint', 'last');
    const epochs = (result.head?.history.length ?? 0) + (result.fineTune?.history.length ?? 0);
    await saveCheckpoint(checkpoint, {
      model,
      epoch: epochs,
      extra: {
        model: source.architecture,
        classNames: data.classNames,
        mean: source.mean,
        std: source.std,
        inputSize: [h, w, c],
        transferredFrom: source.dir,
      },
    });
    const history = {
      head: result.head?.history ?? [],
      fineTune: result.fineTune?.history ?? [],
    };
    await writeFileAtomic(
      join(runDir, 'metrics.json'),
      `${JSON.stringify({ source: source.dir, dataset: data.name, plan, unfreezeStages, groups: result.groups, history, test }, null, 2)}\n`,
    );
    options.log(`wrote ${checkpoint}`);
    return {
      runDir,
      checkpoint,
      plan: { ...plan, unfreezeStages },
      history,
      test,
      classNames: data.classNames,
    };
  } finally {
    model.dispose();
  }
}
