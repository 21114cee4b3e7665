import { manualSeed, RandomSource, selectBackend } from '@convkit/backend';
import { DataLoader, InMemoryDataset, subset } from '@convkit/data';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@convkit/layers';
import { Adam, SGD } from '@convkit/optimizers';
import { fit } from '@convkit/train';
import type { Trial } from '../trial';
import { TrialReporter } from '../trial-reporter';
import { validationPlan } from '../validation-plan';

/** Run once per worker thread: this thread's own tfjs engine on the cpu backend. */
export async function setup(): Promise<void> {
  await selectBackend({ backend: 'cpu' });
}

export interface CnnParams {
  filters: number;
  lr: number;
  optimizer: 'sgd' | 'adam';
  momentum?: number;
  batchSize: number;
}

/** 120 noisy 8x8 images: a horizontal (class 0) or vertical (class 1) bar at a random place. */
function bars(): InMemoryDataset {
  const random = new RandomSource(0);
  const n = 120;
  const images = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    const at = random.int(1, 7);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const on = labels[i] === 0 ? y === at : x === at;
        images[i * 64 + y * 8 + x] = (on ? 1 : 0) + random.normal(0, 0.2);
      }
    }
  }
  return new InMemoryDataset({ images, shape: [n, 8, 8, 1], labels });
}

/**
 * A real, tiny CNN trial: bars in 2 classes, a sealed test split and a
 * holdout validation split, conv -> relu -> pool -> linear trained for 3 epochs with `fit`,
 * reporting validation accuracy per epoch (and stopped by the pruner through TrialReporter).
 */
export async function objective(trial: Trial<CnnParams>): Promise<number> {
  const data = bars();
  const plan = validationPlan(data.labels, { testFraction: 0.2, validationFraction: 0.25, seed: 0 });
  const [fold] = plan.folds;
  const p = trial.params;
  manualSeed(1000 + trial.number);
  const model = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: p.filters, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 4 * 4 * p.filters, outFeatures: 2 }),
  );
  const optimizer =
    p.optimizer === 'adam'
      ? new Adam(model.trainableVariables(), { lr: p.lr })
      : new SGD(model.trainableVariables(), { lr: p.lr, momentum: p.momentum });
  try {
    const { history } = await fit(model, {
      data: new DataLoader(subset(data, fold.train), { batchSize: p.batchSize, shuffle: true, seed: 1 }),
      validationData: new DataLoader(subset(data, fold.validation), { batchSize: 64 }),
      optimizer,
      epochs: 3,
      metrics: ['accuracy'],
      callbacks: [new TrialReporter(trial as Trial<unknown>, { monitor: 'val_accuracy' })],
    });
    return history.at(-1)!.valMetrics!.accuracy;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
