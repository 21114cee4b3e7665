import type { Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';

/** Thrown inside a forward pass once everything wanted was captured (never escapes). */
class Done extends Error {}

type Forward = (...inputs: tf.Tensor[]) => tf.Tensor;

/**
 * Run `run()` (a forward pass of a model) and capture, for each module in `targets`, its output
 * (`what: 'output'`) or its first input (`'input'`). Each module's `forward` is wrapped on the
 * instance for the duration of the call and restored afterwards; once every target has been
 * seen the pass is cut short (the rest of the network is not computed). The captured tensors
 * are kept out of the pass's `tf.tidy` scopes: the caller owns them.
 */
export function capture(
  run: () => unknown,
  targets: ReadonlyMap<string, Module>,
  what: 'output' | 'input',
): Map<string, tf.Tensor> {
  const captured = new Map<string, tf.Tensor>();
  const restore: (() => void)[] = [];
  try {
    for (const [name, module] of targets) {
      const own = Object.getOwnPropertyDescriptor(module, 'forward');
      const original = module.forward as Forward;
      const wrapped: Forward = (...inputs) => {
        if (what === 'input') {
          captured.get(name)?.dispose();
          captured.set(name, tf.keep(inputs[0].clone()));
          if (captured.size === targets.size) throw new Done();
        }
        const out = original.apply(module, inputs);
        if (what === 'output') {
          captured.get(name)?.dispose();
          captured.set(name, tf.keep(out.clone()));
          if (captured.size === targets.size) throw new Done();
        }
        return out;
      };
      (module as { forward: Forward }).forward = wrapped;
      restore.push(() => {
        if (own) Object.defineProperty(module, 'forward', own);
        else delete (module as { forward?: Forward }).forward;
      });
    }
    try {
      const result = run();
      if (result instanceof tf.Tensor) result.dispose();
    } catch (error) {
      if (!(error instanceof Done)) throw error;
    }
    return captured;
  } catch (error) {
    for (const t of captured.values()) t.dispose();
    throw error;
  } finally {
    for (const undo of restore) undo();
  }
}
