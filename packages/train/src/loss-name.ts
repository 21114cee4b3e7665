import { unknownNameMessage } from '@convkit/layers';
import * as losses from '@convkit/losses';
import type { LossFunction } from './types';

/**
 * Every loss of `@convkit/losses` by its export name, plus the short names PyTorch and Keras
 * users type (`'mse'`, `'bce'`, `'nll'`, ...).
 */
const LOSSES = {
  crossEntropy: losses.crossEntropy,
  nllLoss: losses.nllLoss,
  mseLoss: losses.mseLoss,
  l1Loss: losses.l1Loss,
  huberLoss: losses.huberLoss,
  smoothL1Loss: losses.smoothL1Loss,
  binaryCrossEntropy: losses.binaryCrossEntropy,
  binaryCrossEntropyWithLogits: losses.binaryCrossEntropyWithLogits,
  klDiv: losses.klDiv,
  hingeEmbeddingLoss: losses.hingeEmbeddingLoss,
  multiMarginLoss: losses.multiMarginLoss,
  multiLabelSoftMarginLoss: losses.multiLabelSoftMarginLoss,
} as const;

const ALIASES = {
  mse: 'mseLoss',
  l1: 'l1Loss',
  mae: 'l1Loss',
  huber: 'huberLoss',
  smoothL1: 'smoothL1Loss',
  nll: 'nllLoss',
  bce: 'binaryCrossEntropy',
  bceWithLogits: 'binaryCrossEntropyWithLogits',
  kl: 'klDiv',
} as const satisfies Record<string, keyof typeof LOSSES>;

/** Names `fit` and `evaluate` accept for the loss: every loss of `@convkit/losses`, or a short alias. */
export type LossName = keyof typeof LOSSES | keyof typeof ALIASES;

/** The loss function `name` (an export name or an alias) stands for; throws listing every name. */
export function lossByName(name: string): LossFunction {
  const key = Object.hasOwn(ALIASES, name) ? ALIASES[name as keyof typeof ALIASES] : name;
  if (!Object.hasOwn(LOSSES, key)) {
    const names = [...Object.keys(LOSSES), ...Object.keys(ALIASES)];
    throw new Error(
      `loss: ${unknownNameMessage('loss', name, names)}, or a function (prediction, target) => scalar`,
    );
  }
  return LOSSES[key as keyof typeof LOSSES] as LossFunction;
}
