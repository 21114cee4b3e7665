// Test-only helpers (not exported from the package barrel).
import * as tf from '@tensorflow/tfjs-core';
import fixtures from './optimizers.json';
import { Adadelta } from '../adadelta';
import { Adagrad } from '../adagrad';
import { Adam } from '../adam';
import { Adamax } from '../adamax';
import { AdamW } from '../adamw';
import { ASGD } from '../asgd';
import { Lion } from '../lion';
import { NAdam } from '../nadam';
import type { Optimizer } from '../optimizer';
import { RAdam } from '../radam';
import { RMSprop } from '../rmsprop';
import { Rprop } from '../rprop';
import { SGD } from '../sgd';

export const OPTIMIZER_CLASSES: Record<string, new (params: any, options?: any) => Optimizer<any>> =
  {
    SGD,
    Adam,
    AdamW,
    RMSprop,
    Adagrad,
    Adadelta,
    Adamax,
    NAdam,
    RAdam,
    Lion,
    Rprop,
    ASGD,
  };

export type OptimizerCase = (typeof fixtures.cases)[keyof typeof fixtures.cases];
export const OPTIMIZER_CASES = fixtures.cases as Record<string, OptimizerCase>;

/** The fixture's least-squares problem: variables w, b and the loss mean((X w + b − Y)²). */
export function leastSquares() {
  const p = fixtures.problem;
  const x = tf.tensor(p.x, p.xShape as [number, number]);
  const y = tf.tensor(p.y, p.yShape as [number, number]);
  const w = tf.variable(tf.tensor(p.w0, p.wShape as [number, number]));
  const b = tf.variable(tf.tensor(p.b0, p.bShape as [number]));
  const loss = () =>
    tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar);
  const dispose = () => tf.dispose([x, y, w, b]);
  return { w, b, loss, dispose };
}

/** The optimizer of a fixture case over w and b (one group, or W / b groups). */
export function makeOptimizer(c: OptimizerCase, w: tf.Variable, b: tf.Variable): Optimizer<any> {
  const Class = OPTIMIZER_CLASSES[c.optimizer];
  const params =
    c.groups == null
      ? [w, b]
      : [
          { params: [w], ...c.groups[0] },
          { params: [b], ...c.groups[1] },
        ];
  return new Class(params, c.options);
}

/** One step: gradients of `loss` over [w, b], step, free the gradients. */
export function trainStep(opt: Optimizer<any>, loss: () => tf.Scalar, vars: tf.Variable[]): void {
  const { value, grads } = tf.variableGrads(loss, vars);
  opt.step(grads);
  tf.dispose([value, grads]);
}
