// The one atomic writer lives in @convkit/backend; re-exported where run files are written.
export { writeFileAtomic } from '@convkit/backend';
export {
  type BatchLogs,
  type Callback,
  type EpochLogs,
  logValue,
  logValues,
  monitoredValue,
  type StopReason,
  type TrainingContext,
} from './callback';
export {
  CHECKPOINT_MANIFEST,
  CheckpointError,
  type CheckpointFile,
  type CheckpointManifest,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  loadCheckpoint,
  type SaveCheckpointOptions,
  saveCheckpoint,
  verifyCheckpoint,
} from './checkpoint';
export { CSVLogger, type CSVLoggerOptions } from './csv-logger';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping';
export { type EvaluateOptions, type EvaluateResult, evaluate } from './evaluate';
export { type FitOptions, type FitResult, fit } from './fit';
export { History } from './history';
export {
  LearningRateScheduler,
  type LearningRateSchedulerOptions,
} from './learning-rate-scheduler';
export type { LossName } from './loss-name';
export {
  accuracyMetric,
  type Metric,
  type MetricSpec,
  meanMetric,
  resolveMetrics,
  topKAccuracyMetric,
} from './metrics';
export { ModelCheckpoint, type ModelCheckpointOptions } from './model-checkpoint';
export { type PredictOptions, predict } from './predict';
export {
  formatDuration,
  ProgressBar,
  type ProgressBarOptions,
  type ProgressEvent,
  type TextStream,
} from './progress-bar';
export { type PlateauScheduler, ReduceLROnPlateauCallback } from './reduce-lr-on-plateau-callback';
export { TerminateOnNaN, type TerminateOnNaNOptions } from './terminate-on-nan';
export type {
  Batch,
  DataSource,
  LossFunction,
  ModelOutput,
  Schedule,
  StatefulData,
  TrainableModel,
  TrainOptimizer,
} from './types';
