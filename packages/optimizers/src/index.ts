export { Adadelta, type AdadeltaOptions } from './adadelta';
export { Adagrad, type AdagradOptions } from './adagrad';
export { Adam, type AdamOptions } from './adam';
export { Adamax, type AdamaxOptions } from './adamax';
export { AdamW, type AdamWOptions } from './adamw';
export { ASGD, type ASGDOptions } from './asgd';
export { clipGradNorm, clipGradValue, type Gradients } from './clip-grad';
export { Lion, type LionOptions } from './lion';
export { NAdam, type NAdamOptions } from './nadam';
export {
  type BaseOptimizerOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamState,
} from './optimizer';
export { RAdam, type RAdamOptions } from './radam';
export { RMSprop, type RMSpropOptions } from './rmsprop';
export { Rprop, type RpropOptions } from './rprop';
export { ChainedScheduler } from './schedules/chained-scheduler';
export { ConstantLR, type ConstantLROptions } from './schedules/constant-lr';
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
} from './schedules/cosine-annealing-lr';
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from './schedules/cosine-annealing-warm-restarts';
export { CyclicLR, type CyclicLROptions } from './schedules/cyclic-lr';
export { ExponentialLR, type ExponentialLROptions } from './schedules/exponential-lr';
export { LambdaLR, type LrLambda } from './schedules/lambda-lr';
export { LinearLR, type LinearLROptions } from './schedules/linear-lr';
export {
  LRScheduler,
  type SchedulableGroup,
  type SchedulableOptimizer,
  type SchedulerStateDict,
} from './schedules/lr-scheduler';
export { MultiStepLR, type MultiStepLROptions } from './schedules/multi-step-lr';
export { MultiplicativeLR } from './schedules/multiplicative-lr';
export { OneCycleLR, type OneCycleLROptions } from './schedules/one-cycle-lr';
export { PolynomialLR, type PolynomialLROptions } from './schedules/polynomial-lr';
export {
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type ReduceLROnPlateauStateDict,
} from './schedules/reduce-lr-on-plateau';
export { SequentialLR, type SequentialLROptions } from './schedules/sequential-lr';
export { StepLR, type StepLROptions } from './schedules/step-lr';
export type { SerializedTensor } from './serialized-tensor';
export { SGD, type SGDOptions } from './sgd';
