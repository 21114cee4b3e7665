import * as tf from '@tensorflow/tfjs-core';
import { deserializeTensor, sameShape, serializeTensor } from './internal/serialize';
import {
  checkKnownKeys,
  checkRules,
  checkStateKeys,
  fail,
  formatValue,
  type Rule,
} from './internal/validate';
import type { SerializedTensor } from './serialized-tensor';

/** Options every optimizer has. */
export interface BaseOptimizerOptions {
  /** Learning rate. */
  lr: number;
}

/** A parameter group as given to a constructor: its variables and options overriding the defaults. */
export type ParamGroupSpec<O> = { params: tf.Variable[] } & Partial<O>;

/**
 * A parameter group as the optimizer holds it (PyTorch's `param_groups[i]`): the variables and
 * every option, defaults filled in. Options are mutable: `optimizer.paramGroups[0].lr = 0.01`
 * takes effect at the next `step`; schedules write `lr` (and `momentum` / `betas[0]`) here.
 */
export type ParamGroup<O> = O & {
  params: tf.Variable[];
  /** The lr a schedule started from (set by the first schedule attached, as in PyTorch). */
  initialLr?: number;
};

/** Per-variable state: the step count, state tensors (kept variables) and float scalars. */
export interface ParamState {
  step: number;
  tensors: Record<string, tf.Variable>;
  scalars: Record<string, number>;
}

/** JSON-serializable optimizer state (`JSON.stringify` it as it is). */
export interface OptimizerStateDict {
  type: string;
  /** Group options; `params` lists the indices of the group's variables, counted across groups. */
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
  /** Per-variable state keyed by the variable's index. */
  state: Record<
    string,
    { step: number; tensors: Record<string, SerializedTensor>; scalars: Record<string, number> }
  >;
}

const GROUP_EXTRA_KEYS = ['params', 'initialLr'];

/**
 * Base of every optimizer: parameter groups, lazily created per-variable state, `step(grads)`,
 * `minimize(lossFn)`, `stateDict()` / `loadStateDict()` and `dispose()`.
 *
 * Gradients are a `tf.NamedTensorMap` keyed by variable name, exactly what
 * `tf.variableGrads(f, vars).grads` returns. A variable without a gradient is skipped (as a
 * PyTorch parameter whose `.grad` is None). Variables are updated in place with `assign`,
 * inside `tf.tidy`; the state tensors are non-trainable `tf.Variable`s freed by `dispose()`.
 */
export abstract class Optimizer<O extends BaseOptimizerOptions> {
  /** The class name, used in error messages and state dicts. */
  readonly name: string;
  /** The options every group starts from. */
  readonly defaults: Readonly<O>;
  /** The groups, in order; their options may be changed between steps. */
  readonly paramGroups: ParamGroup<O>[];
  private readonly rules: Record<string, Rule>;
  private readonly state = new Map<tf.Variable, ParamState>();
  private readonly byName = new Map<string, tf.Variable>();

  protected constructor(
    name: string,
    params: tf.Variable[] | ParamGroupSpec<O>[],
    options: Partial<O> | undefined,
    defaults: O,
    rules: { [K in keyof O]-?: Rule },
  ) {
    this.name = name;
    this.rules = rules as Record<string, Rule>;
    const known = Object.keys(rules);
    checkKnownKeys(name, options ?? {}, known);
    const given = withoutUndefined(options ?? {}) as Record<string, unknown>;
    const givenRules = Object.fromEntries(Object.keys(given).map((k) => [k, this.rules[k]]));
    checkRules(name, given, givenRules);
    this.defaults = Object.freeze({ ...defaults, ...withoutUndefined(options ?? {}) }) as O;
    this.paramGroups = this.normalizeGroups(params);
  }

  /** Apply one update to `param` given its (already checked) gradient. Runs inside tf.tidy. */
  protected abstract updateParam(
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<O>,
    state: ParamState,
  ): void;

  /** State tensors a variable starts with (created on its first gradient). */
  protected initialState(_param: tf.Variable, _group: ParamGroup<O>): Record<string, tf.Tensor> {
    return {};
  }

  /** Scalars a variable starts with. */
  protected initialScalars(): Record<string, number> {
    return {};
  }

  /** Cross-option checks beyond the per-option rules (e.g. SGD's nesterov). */
  protected checkGroup(_group: ParamGroup<O>, _where: string): void {}

  /**
   * One optimization step from `grads`, keyed by variable name (`tf.variableGrads(...).grads`).
   * Gradients are not disposed; the caller owns them.
   */
  step(grads: tf.NamedTensorMap): void {
    this.checkGrads(grads);
    tf.tidy(() => {
      for (const group of this.paramGroups) {
        for (const param of group.params) {
          const grad = grads[param.name];
          if (grad == null) continue;
          const state = this.stateOf(param, group);
          state.step += 1;
          this.updateParam(param, grad, group, state);
        }
      }
    });
  }

  /**
   * Compute the gradients of `lossFn` with respect to every variable of the optimizer, step,
   * and free the gradients. Returns the loss (caller disposes) when `returnCost`, else null.
   */
  minimize(lossFn: () => tf.Scalar, returnCost = false): tf.Scalar | null {
    const { value, grads } = tf.variableGrads(lossFn, this.variables());
    try {
      this.step(grads);
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /** Every variable, in group order. */
  variables(): tf.Variable[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The learning rate of group `groupIndex`. */
  getLr(groupIndex = 0): number {
    return this.group(groupIndex).lr;
  }

  /** Set the learning rate of one group, or of every group when `groupIndex` is omitted. */
  setLr(lr: number, groupIndex?: number): void {
    if (!(typeof lr === 'number' && lr >= 0)) fail(this.name, 'lr', '>= 0', lr);
    const groups = groupIndex === undefined ? this.paramGroups : [this.group(groupIndex)];
    for (const g of groups) g.lr = lr;
  }

  /** The state of `param`, or undefined before its first step (for inspection and tests). */
  stateFor(param: tf.Variable): Readonly<ParamState> | undefined {
    return this.state.get(param);
  }

  /** Options, step counts and state tensors as plain JSON (reads the state tensors back). */
  stateDict(): OptimizerStateDict {
    const index = new Map(this.variables().map((v, i) => [v, i]));
    const state: OptimizerStateDict['state'] = {};
    for (const [param, s] of this.state) {
      const tensors: Record<string, SerializedTensor> = {};
      for (const [key, t] of Object.entries(s.tensors)) tensors[key] = serializeTensor(t);
      state[String(index.get(param))] = { step: s.step, tensors, scalars: { ...s.scalars } };
    }
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      return { ...cloneJson(rest), params: params.map((p) => index.get(p)!) };
    });
    return { type: this.name, paramGroups, state };
  }

  /**
   * Restore `stateDict()` output into this optimizer, whose groups must hold variables of the
   * same shapes in the same order. Group options are restored too (as in PyTorch).
   */
  loadStateDict(dict: OptimizerStateDict): void {
    checkStateKeys(this.name, dict, ['type', 'paramGroups', 'state']);
    if (dict.type !== this.name)
      fail(this.name, 'loadStateDict(dict).type', `"${this.name}"`, dict.type);
    if (dict.paramGroups.length !== this.paramGroups.length) {
      fail(
        this.name,
        'loadStateDict(dict).paramGroups.length',
        String(this.paramGroups.length),
        dict.paramGroups.length,
      );
    }
    const vars = this.variables();
    dict.paramGroups.forEach((saved, i) => {
      if (saved.params.length !== this.paramGroups[i].params.length) {
        fail(
          this.name,
          `loadStateDict(dict).paramGroups[${i}].params.length`,
          String(this.paramGroups[i].params.length),
          saved.params.length,
        );
      }
    });
    this.checkSavedShapes(dict, vars);
    this.disposeState();
    dict.paramGroups.forEach((saved, i) => {
      const { params: _ignored, ...options } = saved;
      Object.assign(this.paramGroups[i], cloneJson(options));
    });
    for (const [key, saved] of Object.entries(dict.state)) {
      const tensors: Record<string, tf.Variable> = {};
      for (const [name, s] of Object.entries(saved.tensors)) {
        tensors[name] = tf.tidy(() => tf.variable(deserializeTensor(s), false));
      }
      this.state.set(vars[Number(key)], {
        step: saved.step,
        tensors,
        scalars: { ...saved.scalars },
      });
    }
  }

  /** Free every state tensor (the optimized variables are left alone). */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
  }

  private checkSavedShapes(dict: OptimizerStateDict, vars: tf.Variable[]): void {
    for (const [key, saved] of Object.entries(dict.state)) {
      const param = vars[Number(key)];
      if (param === undefined)
        fail(this.name, `loadStateDict(dict).state key`, `< ${vars.length}`, key);
      for (const [name, s] of Object.entries(saved.tensors)) {
        if (!sameShape(s.shape, param.shape)) {
          fail(
            this.name,
            `loadStateDict(dict).state[${key}].tensors.${name}.shape`,
            formatValue(param.shape),
            s.shape,
          );
        }
      }
    }
  }

  private group(i: number): ParamGroup<O> {
    const g = this.paramGroups[i];
    if (g === undefined) fail(this.name, 'groupIndex', `in [0, ${this.paramGroups.length})`, i);
    return g;
  }

  private stateOf(param: tf.Variable, group: ParamGroup<O>): ParamState {
    let s = this.state.get(param);
    if (s === undefined) {
      const tensors: Record<string, tf.Variable> = {};
      for (const [key, t] of Object.entries(this.initialState(param, group))) {
        tensors[key] = tf.variable(t, false);
      }
      s = { step: 0, tensors, scalars: this.initialScalars() };
      this.state.set(param, s);
    }
    return s;
  }

  private checkGrads(grads: tf.NamedTensorMap): void {
    if (grads == null || typeof grads !== 'object') {
      fail(this.name, 'step(grads)', 'a tf.NamedTensorMap keyed by variable name', grads);
    }
    for (const [name, grad] of Object.entries(grads)) {
      const param = this.byName.get(name);
      if (param === undefined) {
        throw new Error(
          `${this.name}: step(grads) received a gradient for ${JSON.stringify(name)}, which is not a ` +
            `variable of this optimizer (expected one of: ${[...this.byName.keys()].join(', ')})`,
        );
      }
      if (!(grad instanceof tf.Tensor))
        fail(this.name, `grads[${JSON.stringify(name)}]`, 'a tf.Tensor', grad);
      if (!sameShape(grad.shape, param.shape)) {
        fail(
          this.name,
          `grads[${JSON.stringify(name)}].shape`,
          `${formatValue(param.shape)} (the variable's shape)`,
          grad.shape,
        );
      }
      if (grad.dtype !== 'float32')
        fail(this.name, `grads[${JSON.stringify(name)}].dtype`, '"float32"', grad.dtype);
    }
  }

  private normalizeGroups(params: tf.Variable[] | ParamGroupSpec<O>[]): ParamGroup<O>[] {
    if (!Array.isArray(params) || params.length === 0) {
      fail(this.name, 'params', 'a non-empty array of tf.Variable or of parameter groups', params);
    }
    const specs: ParamGroupSpec<O>[] = isVariable(params[0])
      ? [{ params: params as tf.Variable[] } as ParamGroupSpec<O>]
      : (params as ParamGroupSpec<O>[]);
    const known = [...Object.keys(this.rules), ...GROUP_EXTRA_KEYS];
    return specs.map((spec, i) => {
      const where = specs === params ? `paramGroups[${i}].` : '';
      if (spec == null || typeof spec !== 'object' || isVariable(spec)) {
        fail(
          this.name,
          `params[${i}]`,
          'a parameter group { params, ...options } (do not mix with variables)',
          spec,
        );
      }
      checkKnownKeys(this.name, spec, known, where);
      const group = {
        ...this.defaults,
        ...withoutUndefined(spec),
        params: [...spec.params],
      } as ParamGroup<O>;
      checkRules(this.name, group as unknown as Record<string, unknown>, this.rules, where);
      this.checkGroup(group, where);
      this.registerParams(group.params, where);
      return group;
    });
  }

  private registerParams(vars: tf.Variable[], where: string): void {
    if (!Array.isArray(vars) || vars.length === 0) {
      fail(this.name, `${where}params`, 'a non-empty array of tf.Variable', vars);
    }
    vars.forEach((v, j) => {
      if (!isVariable(v)) fail(this.name, `${where}params[${j}]`, 'a tf.Variable', v);
      if (v.dtype !== 'float32')
        fail(this.name, `${where}params[${j}].dtype`, '"float32"', v.dtype);
      if (this.byName.has(v.name)) {
        throw new Error(
          `${this.name}: variable ${JSON.stringify(v.name)} appears in more than one parameter group`,
        );
      }
      this.byName.set(v.name, v);
    });
  }
}

function isVariable(v: unknown): v is tf.Variable {
  return (
    v instanceof tf.Variable ||
    (v != null &&
      typeof v === 'object' &&
      typeof (v as tf.Variable).assign === 'function' &&
      'trainable' in (v as object))
  );
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}
