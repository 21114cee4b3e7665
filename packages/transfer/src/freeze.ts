import { BatchNorm1d, BatchNorm2d, type Module } from '@convkit/layers';
import type { ZooModel } from '@convkit/zoo';
import { isUnder, listNames, moduleAt } from './internal/paths';

/** Which part of a model to freeze or unfreeze; without any of these, the whole model. */
export interface FreezeOptions {
  /** Module paths (state-dict prefixes): `'layer1'`, `'layer2.0.conv1'`, `'features'`. */
  paths?: readonly string[];
  /**
   * Stages by module name or index in `model.info.featureInfo` (zoo models): the parameters
   * each stage owns (see `stageParameters`).
   */
  stages?: readonly (string | number)[];
  /** Every module up to and including this path, in state-dict order (the stem included). */
  upTo?: string;
  /** Every parameter up to and including this stage's (`featureInfo` name or index). */
  upToStage?: string | number;
  /**
   * Frozen BatchNorm layers keep normalizing with (and updating) batch statistics in train
   * mode, as PyTorch's `requires_grad_(False)` alone does. Default false: a frozen BatchNorm
   * runs in inference mode (running statistics, none updated), the Keras rule.
   */
  keepBatchStatistics?: boolean;
}

/** Trainable and frozen parameter counts (elements), as `summary` reports them. */
export interface ParameterCounts {
  trainable: number;
  frozen: number;
  total: number;
}

export function parameterCounts(model: Module): ParameterCounts {
  let trainable = 0;
  let frozen = 0;
  for (const [, p] of model.namedParameters()) {
    if (p.trainable) trainable += p.variable.size;
    else frozen += p.variable.size;
  }
  return { trainable, frozen, total: trainable + frozen };
}

function featureInfoOf(model: Module): readonly { module: string }[] | undefined {
  return (model as unknown as Partial<ZooModel>).info?.featureInfo;
}

/** The module path of a stage given by name or index, or an error naming the valid stages. */
export function stagePath(model: Module, stage: string | number, what: string): string {
  const info = featureInfoOf(model);
  if (!info) {
    throw new Error(`${what}: stages need a zoo model with info.featureInfo; use paths instead`);
  }
  const names = info.map((f) => f.module);
  const valid = `valid stages: ${names.map((n, i) => `${i} (${n})`).join(', ')}`;
  if (typeof stage === 'number') {
    if (!Number.isInteger(stage) || stage < 0 || stage >= names.length) {
      throw new Error(`${what}: unknown stage ${stage}; ${valid}`);
    }
    return names[stage];
  }
  if (!names.includes(stage))
    throw new Error(`${what}: unknown stage ${JSON.stringify(stage)}; ${valid}`);
  return stage;
}

/** The module owning a parameter key (`layer1.0.conv1.weight` -> `layer1.0.conv1`). */
export function ownerOf(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot < 0 ? '' : key.slice(0, dot);
}

/**
 * The parameter keys of each stage of `model.info.featureInfo`, in stage order: a stage owns
 * every parameter that runs after the previous stage's output and up to its own (the stem
 * belongs to stage 0; LeNet's `features.2` pool owns the conv `features.0` before it).
 * Parameters after the last stage (hidden FC layers, the classifier) are in `rest`.
 */
export function stageParameters(
  model: Module,
  what = 'stages',
): { stages: Map<string, string[]>; rest: string[] } {
  const info = featureInfoOf(model);
  if (!info)
    throw new Error(`${what}: stages need a zoo model with info.featureInfo; use paths instead`);
  const order = model.namedModules().map(([p]) => p);
  const end = (path: string) => {
    let last = order.indexOf(path);
    order.forEach((p, i) => {
      if (isUnder(p, path)) last = Math.max(last, i);
    });
    return last;
  };
  const ends = info.map((f) => end(f.module));
  const stages = new Map<string, string[]>(info.map((f) => [f.module, []]));
  const rest: string[] = [];
  for (const [key] of model.namedParameters()) {
    const position = order.indexOf(ownerOf(key));
    const k = ends.findIndex((e) => position <= e);
    if (k < 0) rest.push(key);
    else stages.get(info[k].module)?.push(key);
  }
  return { stages, rest };
}

/** The module paths an options object selects ('' for the whole model), validated. */
export function selectedPaths(model: Module, options: FreezeOptions, what: string): string[] {
  const paths: string[] = [];
  for (const path of options.paths ?? []) {
    moduleAt(model, path, what);
    paths.push(path);
  }
  if (options.stages !== undefined || options.upToStage !== undefined) {
    const { stages } = stageParameters(model, what);
    for (const stage of options.stages ?? []) {
      for (const key of stages.get(stagePath(model, stage, what)) ?? []) paths.push(ownerOf(key));
    }
    if (options.upToStage !== undefined) {
      if (options.upTo !== undefined) throw new Error(`${what}: give upTo or upToStage, not both`);
      const last = stagePath(model, options.upToStage, what);
      for (const [name, keys] of stages) {
        for (const key of keys) paths.push(ownerOf(key));
        if (name === last) break;
      }
    }
  }
  const upTo = options.upTo;
  if (upTo !== undefined) moduleAt(model, upTo, what);
  if (upTo !== undefined) {
    const keys = model.namedParameters().map(([k]) => k);
    let last = -1;
    keys.forEach((k, i) => {
      if (isUnder(k, upTo as string)) last = i;
    });
    if (last < 0) {
      throw new Error(
        `${what}: module ${JSON.stringify(upTo)} has no parameters; modules with parameters: ${listNames([...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('.'))))])}`,
      );
    }
    for (const key of keys.slice(0, last + 1)) paths.push(ownerOf(key));
  }
  const none =
    options.paths === undefined &&
    options.stages === undefined &&
    options.upTo === undefined &&
    options.upToStage === undefined;
  return none ? [''] : [...new Set(paths)];
}

function setFrozen(model: Module, paths: string[], frozen: boolean, keepBatchStatistics: boolean) {
  for (const path of paths) {
    const module = moduleAt(model, path, frozen ? 'freeze' : 'unfreeze');
    if (frozen) module.freeze();
    else module.unfreeze();
    if (frozen && keepBatchStatistics) {
      for (const [, m] of module.namedModules()) {
        if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) m.frozen = false;
      }
    }
  }
}

/**
 * Freeze part of a model (by default all of it): its parameters stop being trainable (no
 * optimizer or `tf.variableGrads` sees them) and its BatchNorm layers run in inference mode,
 * unless `keepBatchStatistics`. Returns the parameter counts after the change. Unknown paths
 * or stages are refused, naming the valid ones.
 */
export function freeze(model: Module, options: FreezeOptions = {}): ParameterCounts {
  setFrozen(
    model,
    selectedPaths(model, options, 'freeze'),
    true,
    options.keepBatchStatistics ?? false,
  );
  return parameterCounts(model);
}

/** Undo `freeze` for the selected part (by default the whole model). */
export function unfreeze(
  model: Module,
  options: Omit<FreezeOptions, 'keepBatchStatistics'> = {},
): ParameterCounts {
  setFrozen(model, selectedPaths(model, options, 'unfreeze'), false, false);
  return parameterCounts(model);
}
