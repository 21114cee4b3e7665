export { Adadelta, type AdadeltaOptions } from './adadelta';
export { Adagrad, type AdagradOptions } from './adagrad';
export { Adam, type AdamOptions } from './adam';
export { Adamax, type AdamaxOptions } from './adamax';
export { AdamW, type AdamWOptions } from './adamw';
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
export { SGD, type SGDOptions } from './sgd';
export type { SerializedTensor } from './internal/serialize';
