import { StateDictError } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { Buffer, Param } from './param';

/** Any module, whatever its config and output type: for code that walks or stores models. */
export type AnyModule = Module<any, unknown>;

/** A shape with the batch axis first; activations are NHWC. */
export type Shape = number[];

/** `toJSON()` of a module: its registered type, its config, and its children for containers. */
export interface ModuleJSON {
  type: string;
  config: Record<string, unknown>;
  children?: ModuleJSON[];
}

/** What `loadStateDict` found; with `strict: false` missing and unexpected keys are allowed. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

type Member = Param | Buffer | AnyModule;

/**
 * Called after a module's `forward` with the module, its inputs and its output; return a tensor
 * to replace the output (as PyTorch's forward hooks), or nothing to keep it. A hook runs inside
 * whatever `tf.tidy` or gradient tape the forward runs in, so what it creates belongs to that
 * scope and a replacement is differentiated through.
 */
export type ForwardHook<Output = tf.Tensor> = (
  module: AnyModule,
  inputs: tf.Tensor[],
  output: Output,
) => Output | undefined;

/** What `registerForwardHook` returns; `remove()` unregisters the hook (idempotent). */
export interface HookHandle {
  remove(): void;
}

/** The hooks of each module that has any (a module without hooks has no entry). */
const forwardHooks = new WeakMap<AnyModule, { hook: ForwardHook<unknown> }[]>();

/**
 * The base of every layer and model, after torch.nn.Module: parameters (`Param`), buffers
 * (`Buffer`), submodules and arrays of submodules are plain fields, found by walking the object
 * in insertion order, so the field name is the state-dict key (`layer1.0.conv1.weight`).
 *
 * `forward` is synchronous, reads nothing back to the CPU and never disposes its inputs; the
 * caller owns memory (`tf.tidy`).
 */
export abstract class Module<Config extends object = object, Output = tf.Tensor> {
  readonly config: Readonly<Config>;
  /** Train mode (dropout active, BatchNorm uses and updates batch statistics). */
  training = true;
  /** Frozen: parameters not trainable, and BatchNorm runs in inference mode (the Keras rule). */
  frozen = false;
  /** Dotted path from the root, set by the root's walks (`namedModules`); used in errors. */
  path = '';

  constructor(config: Config) {
    this.config = Object.freeze({ ...config });
  }

  /**
   * The computation. `Output` is a tensor for layers; a model may declare another output type
   * (GoogLeNet in training: `{ logits, aux }`), which its callers then see without a cast.
   */
  abstract forward(...inputs: tf.Tensor[]): Output;

  /** The output shape for these input shapes, computed without tensors. */
  abstract outputShape(...inputShapes: Shape[]): Shape;

  /** Multiply-adds of one forward pass for `inputShape` (0 for layers without products). */
  multiplyAdds(_inputShapes: Shape[], _outputShape: Shape): number {
    return 0;
  }

  /** The name used in error messages: the path, or the class when the module is a root. */
  protected get label(): string {
    return this.path ? `${this.path} (${this.constructor.name})` : this.constructor.name;
  }

  /** Direct members in field order; an array of modules `layers` gives `layers.0`, `layers.1`. */
  protected *members(): Generator<[string, Member]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Param || value instanceof Buffer || value instanceof Module) {
        yield [key, value];
      } else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] instanceof Module) yield [`${key}.${i}`, value[i]];
        }
      }
    }
  }

  namedChildren(): [string, AnyModule][] {
    return [...this.members()].filter((m): m is [string, AnyModule] => m[1] instanceof Module);
  }

  /** This module ('') and every descendant, depth first; also records each one's `path`. */
  namedModules(prefix = ''): [string, AnyModule][] {
    if (prefix === '' && this.path === '') this.path = '';
    const out: [string, AnyModule][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      const path = prefix ? `${prefix}.${name}` : name;
      child.path = this.path ? `${this.path}.${path.slice(prefix ? prefix.length + 1 : 0)}` : path;
      out.push(...child.namedModules(path));
    }
    return out;
  }

  /**
   * The descendant at the dotted state-dict path (`layer3.1.conv2`, `features.3`; '' is this
   * module). An unknown path throws, listing the valid ones. Name the type you expect,
   * `getSubmodule<Conv2d>('conv1')`, as with `querySelector<T>`: it is not checked at run time.
   */
  getSubmodule<M extends AnyModule = Module>(path: string): M {
    const modules = this.namedModules();
    const found = modules.find(([p]) => p === path);
    if (found) return found[1] as M;
    const valid = modules.map(([p]) => p).filter((p) => p !== '');
    throw new Error(
      `${this.label}: no submodule at path '${path}'; valid paths: ${valid.join(', ') || '(none)'}`,
    );
  }

  /**
   * Call `hook(module, inputs, output)` after every `forward` of this module; a returned tensor
   * replaces the output. Hooks run in registration order. While a module has hooks its `forward`
   * is wrapped by an instance property; removing the last hook deletes that property, so a
   * module without hooks runs its class's `forward` untouched (no check, no cost).
   */
  registerForwardHook(hook: ForwardHook<Output>): HookHandle {
    let hooks = forwardHooks.get(this);
    if (!hooks) {
      const list: { hook: ForwardHook<unknown> }[] = [];
      hooks = list;
      forwardHooks.set(this, list);
      const inner = this.forward;
      Object.defineProperty(this, 'forward', {
        configurable: true,
        enumerable: false,
        writable: true,
        value: (...inputs: tf.Tensor[]): unknown => {
          let output = inner.apply(this, inputs);
          for (const { hook: h } of [...list])
            output = (h(this, inputs, output) ?? output) as Output;
          return output;
        },
      });
    }
    const list = hooks;
    const entry = { hook: hook as ForwardHook<unknown> };
    list.push(entry);
    let removed = false;
    return {
      remove: () => {
        if (removed) return;
        removed = true;
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0 && forwardHooks.get(this) === list) {
          forwardHooks.delete(this);
          delete (this as { forward?: unknown }).forward;
        }
      },
    };
  }

  /** Params and buffers with their state-dict keys, in PyTorch's order (per module: own
   * members in field order, then children). */
  private namedState(): [string, Param | Buffer][] {
    const out: [string, Param | Buffer][] = [];
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, member] of module.members()) {
        if (!(member instanceof Module)) out.push([prefix ? `${prefix}.${name}` : name, member]);
      }
    }
    return out;
  }

  namedParameters(): [string, Param][] {
    return this.namedState().filter((e): e is [string, Param] => e[1] instanceof Param);
  }

  namedBuffers(): [string, Buffer][] {
    return this.namedState().filter((e): e is [string, Buffer] => e[1] instanceof Buffer);
  }

  /** Every parameter below, as torch.nn.Module.parameters(). */
  parameters(): Param[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer below (running statistics, counters), as torch.nn.Module.buffers(). */
  buffers(): Buffer[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** The direct submodules, as torch.nn.Module.children(). */
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, as torch.nn.Module.modules(). */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Call `fn` on every descendant and then on this module (children first, as
   * torch.nn.Module.apply), e.g. to re-initialize weights. There is no `zeroGrad`: tfjs returns
   * gradients from `tf.variableGrads` instead of accumulating them on the parameters.
   */
  apply(fn: (module: AnyModule) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** The trainable variables, for an optimizer or `tf.variableGrads`. */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .map(([, p]) => p.variable)
      .filter((v) => v.trainable);
  }

  /** Parameters and persistent buffers by PyTorch key. The tensors are the live variables. */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [key, member] of this.namedState()) {
      if (member instanceof Param || member.persistent) out[key] = member.variable;
    }
    return out;
  }

  /**
   * Copy `state` into the parameters and buffers. Every problem is reported at once: missing and
   * unexpected keys (errors when `strict`), and shape or dtype mismatches (always errors). Nothing
   * is written unless everything fits.
   */
  loadStateDict(
    state: Record<string, tf.Tensor>,
    { strict = true }: { strict?: boolean } = {},
  ): LoadStateDictResult {
    const own = new Map(this.namedState().filter(([, m]) => m instanceof Param || m.persistent));
    const missingKeys = [...own.keys()].filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !own.has(k));
    const mismatches: string[] = [];
    for (const [key, member] of own) {
      const value = state[key];
      if (!value) continue;
      const expected = member.variable;
      if (!tf.util.arraysEqual(value.shape, expected.shape)) {
        mismatches.push(`${key}: expected shape [${expected.shape}], received [${value.shape}]`);
      } else if (value.dtype !== expected.dtype) {
        mismatches.push(`${key}: expected dtype ${expected.dtype}, received ${value.dtype}`);
      }
    }
    const problems = [
      ...mismatches,
      ...(strict ? missingKeys.map((k) => `missing key ${k}`) : []),
      ...(strict ? unexpectedKeys.map((k) => `unexpected key ${k}`) : []),
    ];
    if (problems.length > 0) throw new StateDictError(this.label, problems);
    for (const [key, member] of own) {
      if (state[key]) member.variable.assign(state[key]);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Set train mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Make every parameter below untrainable; frozen BatchNorm layers use running statistics. */
  freeze(): this {
    return this.setFrozen(true);
  }

  unfreeze(): this {
    return this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): this {
    for (const [, m] of this.namedModules()) {
      m.frozen = frozen;
      for (const [, member] of m.members()) {
        if (member instanceof Param) member.trainable = !frozen;
      }
    }
    return this;
  }

  /** Free every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, member] of this.namedState()) member.variable.dispose();
  }

  /** The architecture as JSON (weights travel separately, in the state dict). */
  toJSON(): ModuleJSON {
    return { type: this.constructor.name, config: { ...this.config } as Record<string, unknown> };
  }

  /** Throw, naming this module, unless `shape` has `rank` axes. */
  protected expectRank(shape: Shape, rank: number, what = 'input'): void {
    if (shape.length !== rank) {
      throw new Error(`${this.label}: expected a rank-${rank} ${what}, received shape [${shape}]`);
    }
  }

  /** Throw, naming this module, unless axis `axis` of `shape` equals `size`. */
  protected expectAxis(shape: Shape, axis: number, size: number, meaning: string): void {
    const actual = shape.at(axis);
    if (actual !== size) {
      throw new Error(
        `${this.label}: expected ${meaning} ${size} (input shape [${shape.slice(0, axis < 0 ? shape.length + axis : axis).map(() => '*')}${shape.length ? ', ' : ''}${size}...]), received shape [${shape}]`,
      );
    }
  }
}
