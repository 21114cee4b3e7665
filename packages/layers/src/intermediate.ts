import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, HookHandle } from './module';

/** What `forwardWithActivations` returns: the model's output and each hooked module's output. */
export interface ForwardWithActivations {
  output: tf.Tensor;
  activations: Record<string, tf.Tensor>;
}

/**
 * Run `model.forward(...inputs)` once and also return the outputs of the modules at the
 * state-dict `paths` (`layer3.1.conv2`, `features.3`). The hooks are removed afterwards and
 * every intermediate tensor is freed: only the returned tensors remain (the caller owns them).
 * An unknown path throws, listing the valid ones. A module that runs several times in one
 * forward reports its last output.
 *
 * Shape: `activations[path]` is that module's output shape (NHWC for conv layers).
 */
export function forwardWithActivations(
  model: AnyModule,
  inputs: tf.Tensor | tf.Tensor[],
  paths: string[],
): ForwardWithActivations {
  const modules = paths.map((p) => model.getSubmodule(p));
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  return tf.tidy(() => {
    const activations: Record<string, tf.Tensor> = {};
    // Kept: a model whose forward runs in its own tf.tidy (every zoo model) would otherwise
    // dispose the hooked outputs when its forward returns.
    const handles: HookHandle[] = modules.map((m, i) =>
      m.registerForwardHook((_m, _inputs, output) => {
        activations[paths[i]]?.dispose(); // a module that runs again reports its last output
        activations[paths[i]] = tf.keep(tensorOutput(`module '${paths[i]}'`, output));
        return undefined;
      }),
    );
    try {
      const output = tensorOutput('the model', model.forward(...xs));
      // Back under this tidy's accounting (a kept tensor would escape every enclosing tidy):
      // a clone shares the data and is tracked here; the kept handle is released.
      for (const [path, kept] of Object.entries(activations)) {
        activations[path] = tf.clone(kept);
        kept.dispose();
      }
      return { output, activations };
    } catch (error) {
      tf.dispose(Object.values(activations));
      throw error;
    } finally {
      for (const h of handles) h.remove();
    }
  });
}

/** What `activationGradient` returns. */
export interface ActivationGradient {
  /** The model's output for the inputs. */
  output: tf.Tensor;
  /** The output of the module at the path. */
  activation: tf.Tensor;
  /** `objective(output, activation)`, a scalar. */
  value: tf.Scalar;
  /** d value / d activation, the activation's shape. */
  gradient: tf.Tensor;
}

/**
 * The gradient of a scalar `objective(output, activation)` with respect to the output of the
 * module at state-dict `path`, as Grad-CAM needs d(logit) / d(feature map). tfjs differentiates
 * only with respect to tensors that exist before the taped function runs, so the activation is
 * computed first and then fed back in: a forward hook replaces the module's output by it while
 * the model runs again under `tf.valueAndGrad`. The module's output is its own function of the
 * input, so replacing it by an equal tensor gives the same output and the exact gradient.
 * Nothing leaks: only the returned tensors remain.
 *
 * The objective may use both the model's output (`output.gather(...)` for a logit) and the
 * activation itself (a channel mean for activation maximization). Run the model in `eval()`
 * mode when it has BatchNorm or dropout, or the two passes differ.
 */
export function activationGradient(
  model: AnyModule,
  inputs: tf.Tensor | tf.Tensor[],
  path: string,
  objective: (output: tf.Tensor, activation: tf.Tensor) => tf.Scalar,
): ActivationGradient {
  const module = model.getSubmodule(path);
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  return tf.tidy(() => {
    const first = forwardWithActivations(model, xs, [path]);
    const activation = first.activations[path];
    if (!activation) {
      throw new Error(`activationGradient: module '${path}' did not run during model.forward`);
    }
    const f = (a: tf.Tensor): tf.Scalar => {
      const handle = module.registerForwardHook(() => a);
      try {
        return objective(tensorOutput('the model', model.forward(...xs)), a);
      } finally {
        handle.remove();
      }
    };
    const { value, grad } = tf.valueAndGrad(f)(activation);
    return { output: first.output, activation, value, gradient: grad };
  });
}

/**
 * Modules may return several tensors (GoogLeNet's `{ logits, aux }` in train mode); activations
 * and objectives need one.
 */
function tensorOutput(what: string, value: unknown): tf.Tensor {
  if (value instanceof tf.Tensor) return value;
  const received = Array.isArray(value)
    ? 'an array'
    : typeof value === 'object'
      ? 'an object'
      : typeof value;
  throw new Error(
    `${what} returned ${received}, expected one tensor; call eval() on a model with auxiliary outputs, or pick a submodule that returns one tensor`,
  );
}
