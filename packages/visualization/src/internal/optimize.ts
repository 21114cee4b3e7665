import type { Module } from '@convkit/layers';
import * as tf from '@tensorflow/tfjs-core';

/** Run `fn` with the model in eval mode, then restore every module's own `training` flag. */
export async function inEvalMode<T>(model: Module, fn: () => Promise<T>): Promise<T> {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return await fn();
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

/**
 * Minimize `loss()` over `variables` with Adam for `steps` steps; returns the loss of every
 * step (read back after each step) and whatever `record()` adds. Only `variables` change: the
 * model's parameters are not in the list. The optimizer's slots are freed at the end.
 */
export async function adamLoop(
  variables: tf.Variable[],
  steps: number,
  learningRate: number,
  step: (i: number) => { loss: tf.Scalar; extra?: tf.Scalar[] },
  afterStep?: (i: number) => void,
): Promise<{ losses: number[]; extras: number[][] }> {
  const optimizer = tf.train.adam(learningRate);
  const losses: number[] = [];
  const extras: number[][] = [];
  try {
    for (let i = 0; i < steps; i++) {
      let kept: tf.Scalar[] = [];
      const loss = optimizer.minimize(
        () => {
          const out = step(i);
          kept = (out.extra ?? []).map((t) => tf.keep(t));
          return out.loss;
        },
        true,
        variables,
      ) as tf.Scalar;
      const values = await Promise.all([loss, ...kept].map((t) => t.data()));
      tf.dispose([loss, ...kept]);
      losses.push(values[0][0]);
      extras.push(values.slice(1).map((v) => v[0]));
      afterStep?.(i);
    }
  } finally {
    optimizer.dispose();
  }
  return { losses, extras };
}
