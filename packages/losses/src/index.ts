export { accuracy, topKAccuracy } from './accuracy';
export {
  type BinaryCrossEntropyOptions,
  binaryCrossEntropy,
} from './binary-cross-entropy';
export {
  type BinaryCrossEntropyWithLogitsOptions,
  binaryCrossEntropyWithLogits,
} from './binary-cross-entropy-with-logits';
export { confusionMatrix } from './confusion-matrix';
export { type CrossEntropyOptions, crossEntropy } from './cross-entropy';
export { type HingeEmbeddingOptions, hingeEmbeddingLoss } from './hinge-embedding-loss';
export { type HuberOptions, huberLoss } from './huber-loss';
export { type KlDivOptions, klDiv } from './kl-div';
export { l1Loss } from './l1-loss';
export { logSoftmax } from './log-softmax';
export { meanIoU } from './mean-iou';
export type { MetricInput } from './metric-input';
export { mseLoss, type ReductionOptions } from './mse-loss';
export { multiLabelAccuracy, multiLabelF1 } from './multi-label-metrics';
export {
  type MultiLabelSoftMarginOptions,
  multiLabelSoftMarginLoss,
} from './multi-label-soft-margin-loss';
export { type MultiMarginOptions, multiMarginLoss } from './multi-margin-loss';
export { type NllLossOptions, nllLoss } from './nll-loss';
export { type PrecisionRecallF1, precisionRecallF1 } from './precision-recall-f1';
export type { Reduction } from './reduction';
export { rocAuc } from './roc-auc';
export { type SmoothL1Options, smoothL1Loss } from './smooth-l1-loss';
