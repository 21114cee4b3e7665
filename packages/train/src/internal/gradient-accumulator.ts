import * as tf from '@tensorflow/tfjs-core';

/** What the accumulator steps: any convkit optimizer. */
interface Steppable {
  step(grads: tf.NamedTensorMap): void;
}

/**
 * Sums the gradients of `steps` micro-batches, each weighted by its loss weight (its size, or
 * its class-weight total), and steps the optimizer with the sum divided by the total weight: for
 * a mean loss that is the gradient of one batch as large as the micro-batches together.
 *
 * It owns the gradients and weights it is given, and frees them when it steps or is disposed.
 */
export class GradientAccumulator {
  private sums: Record<string, tf.Tensor> = {};
  private weight: tf.Scalar | null = null;
  private added = 0;

  constructor(readonly steps: number) {
    if (!Number.isInteger(steps) || steps < 1) {
      throw new Error(
        `GradientAccumulator: expected steps to be an integer >= 1, received ${steps}`,
      );
    }
  }

  /** Micro-batches added since the last step. */
  get count(): number {
    return this.added;
  }

  /** Whether `steps` micro-batches were added, so that `step` is due. */
  get ready(): boolean {
    return this.added >= this.steps;
  }

  /** Add one micro-batch's gradients and loss weight (taking ownership of both). */
  add(grads: tf.NamedTensorMap, weight: tf.Scalar): void {
    if (this.ready) {
      throw new Error(`GradientAccumulator.add: ${this.steps} micro-batches added, step() is due`);
    }
    if (this.steps === 1) {
      // One micro-batch steps with its own gradient, bit for bit (no weight, no division).
      this.sums = { ...grads };
      this.weight = weight;
      this.added = 1;
      return;
    }
    const previous = this.sums;
    const next: Record<string, tf.Tensor> = { ...previous };
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const scaled = tf.mul(g, weight);
        next[name] = tf.keep(previous[name] ? tf.add(previous[name], scaled) : scaled);
      }
    });
    // Gradients with no contribution this micro-batch (frozen paths) carry over unchanged.
    for (const name of Object.keys(grads)) previous[name]?.dispose();
    tf.dispose(Object.values(grads));
    const total = this.weight ? tf.add(this.weight, weight) : tf.clone(weight);
    this.weight?.dispose();
    weight.dispose();
    this.weight = total as tf.Scalar;
    this.sums = next;
    this.added += 1;
  }

  /** Step `optimizer` with the weighted mean of the gradients added, then start afresh. */
  step(optimizer: Steppable): void {
    if (this.added === 0) throw new Error('GradientAccumulator.step: no gradients were added');
    try {
      tf.tidy(() => {
        if (this.steps === 1) return optimizer.step(this.sums);
        const weight = this.weight!;
        const mean: tf.NamedTensorMap = {};
        for (const [name, g] of Object.entries(this.sums)) mean[name] = tf.div(g, weight);
        optimizer.step(mean);
      });
    } finally {
      this.dispose();
    }
  }

  /** Free what was added and not stepped (after an error, or a stop mid-accumulation). */
  dispose(): void {
    tf.dispose(Object.values(this.sums));
    this.weight?.dispose();
    this.sums = {};
    this.weight = null;
    this.added = 0;
  }
}
