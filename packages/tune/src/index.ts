export { type AshaOptions, AshaPruner } from './asha-pruner';
export { GridSampler, type GridSamplerOptions } from './grid-sampler';
export { type HyperbandOptions, HyperbandPruner } from './hyperband-pruner';
export { inProcessRunner } from './in-process-runner';
export { type MedianOptions, MedianPruner, percentileOf } from './median-pruner';
export { createPruner, type Pruner, type PrunerContext, type PrunerSpec } from './pruner';
export { RandomSampler } from './random-sampler';
export {
  DEFAULT_PREFIX,
  DEFAULT_QUEUE,
  DEFAULT_REDIS_URL,
  type RedisRunnerOptions,
  redisRunner,
} from './redis-runner';
export { type ResultsTableOptions, resultsTable } from './results-table';
export type { OpenedStudy, Runner, StudyMeta } from './runner';
export { type SampleContext, type Sampler, sampleUniform } from './sampler';
export {
  type BooleanParam,
  boolean,
  type ChoiceParam,
  type Condition,
  choice,
  defineSpace,
  type FloatParam,
  float,
  type IntParam,
  int,
  type ParamSpec,
  type Params,
  type ParamValue,
  SearchSpace,
  type SpaceSpec,
} from './search-space';
export { type StartWorkerOptions, startWorker, type TuneWorker } from './start-worker';
export { runStudy, type StudyOptions, type StudyResult, trialRandom } from './study';
export { type ThreadRunnerOptions, threadRunner } from './thread-runner';
export { TpeSampler, type TpeSamplerOptions } from './tpe-sampler';
export {
  bestTrial,
  type Direction,
  executeTrial,
  isBetter,
  type Objective,
  Trial,
  TrialPruned,
  type TrialRecord,
  type TrialState,
  type TrialTask,
} from './trial';
export { TrialReporter, type TrialReporterOptions } from './trial-reporter';
export {
  type Fold,
  type RetrainOptions,
  retrainAndTest,
  ValidationPlan,
  type ValidationPlanOptions,
  validationPlan,
} from './validation-plan';
