import type { BackendName } from '@convkit/backend';
import type { TextStream } from '@convkit/train';
import { runTrainJob, type TrainJobResult } from './train-job';

export { formatConfusion } from './train-job';

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
  /** Write `gallery/` (look inside the trained network). Default true. */
  gallery?: boolean;
}

export type MainJobResult = TrainJobResult;

/**
 * The README's main job: `@convkit/zoo`'s LeNet-5 on Fashion-MNIST with @convkit/train (the
 * `train` command with these defaults). Selects the best backend, loads the data (normalized;
 * 55,000 training and 5,000 stratified validation images), trains with Adam (cosine annealing
 * per step) and a progress bar, stops on a NaN loss, evaluates on the 10,000 test images, prints
 * the confusion matrix with class names, writes the checkpoint (best and last), `metrics.csv`
 * and `metrics.json` into `.convkit/runs/<timestamp>/`, and looks inside the trained network:
 * `gallery/` holds its feature maps, filters, reconstructions from each layer, attributions
 * and training charts.
 */
export function runMainJob(options: MainJobOptions): Promise<MainJobResult> {
  return runTrainJob({
    ...options,
    model: 'lenet5',
    dataset: { kind: 'fashion-mnist', path: options.dataPath },
    lr: options.lr ?? 2e-3,
    optimizer: 'adam',
    schedule: 'cosine',
    augmentation: 'none',
    gallery: options.gallery ?? true,
  });
}
