import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, Shape } from './module';
import { Param } from './param';

export interface SummaryRow {
  /** Dotted path of the module (`features.0`). */
  path: string;
  type: string;
  outputShape: Shape;
  trainableParams: number;
  nonTrainableParams: number;
  multiplyAdds: number;
}

export interface ModelSummary {
  rows: SummaryRow[];
  trainableParams: number;
  nonTrainableParams: number;
  multiplyAdds: number;
  /** The table as text, Keras-style. */
  text: string;
}

/**
 * Per-layer output shapes, parameter counts and multiply-adds of `model` for one input of
 * `inputShape` (batch axis included). Runs one forward pass on zeros in eval mode, recording
 * each leaf module's output, so it works for any architecture; the model's mode is restored
 * and no tensors are left behind.
 */
export function summary(model: AnyModule, inputShape: Shape): ModelSummary {
  const modules = model.namedModules();
  const leaves = modules.filter(([, m]) => m.namedChildren().length === 0);
  const seen = new Map<AnyModule, { inputs: Shape[]; output: Shape }>();
  const originals = leaves.map(([, m]) => {
    const original = m.forward;
    m.forward = (...inputs: tf.Tensor[]) => {
      const output = original.apply(m, inputs);
      const outputShape = output instanceof tf.Tensor ? output.shape : [];
      seen.set(m, { inputs: inputs.map((t) => t.shape), output: outputShape });
      return output;
    };
    return [m, original] as const;
  });
  const wasTraining = model.training;
  model.eval();
  try {
    tf.tidy(() => {
      model.forward(tf.zeros(inputShape));
    });
  } finally {
    for (const [m] of originals) delete (m as { forward?: unknown }).forward;
    model.train(wasTraining);
  }

  const rows: SummaryRow[] = leaves.map(([path, m]) => {
    const own = [...ownParams(m)];
    const count = (trainable: boolean) =>
      own.filter((p) => p.trainable === trainable).reduce((s, p) => s + p.variable.size, 0);
    const shapes = seen.get(m);
    return {
      path,
      type: m.constructor.name,
      outputShape: shapes?.output ?? [],
      trainableParams: count(true),
      nonTrainableParams: count(false),
      multiplyAdds: shapes ? m.multiplyAdds(shapes.inputs, shapes.output) : 0,
    };
  });
  const total = (key: 'trainableParams' | 'nonTrainableParams' | 'multiplyAdds') =>
    rows.reduce((s, r) => s + r[key], 0);
  // Parameters owned by containers themselves (not by a leaf) still count in the totals.
  const leafSet = new Set(leaves.map(([, m]) => m));
  const containerParams = modules
    .filter(([, m]) => !leafSet.has(m))
    .flatMap(([, m]) => [...ownParams(m)]);
  const trainableParams =
    total('trainableParams') +
    containerParams.filter((p) => p.trainable).reduce((s, p) => s + p.variable.size, 0);
  const nonTrainableParams =
    total('nonTrainableParams') +
    containerParams.filter((p) => !p.trainable).reduce((s, p) => s + p.variable.size, 0);
  const multiplyAdds = total('multiplyAdds');
  return {
    rows,
    trainableParams,
    nonTrainableParams,
    multiplyAdds,
    text: formatSummary(rows, trainableParams, nonTrainableParams, multiplyAdds),
  };
}

function* ownParams(m: AnyModule): Generator<Param> {
  for (const value of Object.values(m)) if (value instanceof Param) yield value;
}

function formatSummary(
  rows: SummaryRow[],
  trainable: number,
  nonTrainable: number,
  macs: number,
): string {
  const table = [
    ['layer', 'type', 'output shape', 'params', 'mult-adds'],
    ...rows.map((r) => [
      r.path || '(root)',
      r.type,
      `[${r.outputShape.join(', ')}]`,
      (r.trainableParams + r.nonTrainableParams).toLocaleString('en-US'),
      r.multiplyAdds.toLocaleString('en-US'),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    line(table[0]),
    rule,
    ...table.slice(1).map(line),
    rule,
    `total params: ${(trainable + nonTrainable).toLocaleString('en-US')} (trainable ${trainable.toLocaleString('en-US')}, non-trainable ${nonTrainable.toLocaleString('en-US')})`,
    `mult-adds: ${macs.toLocaleString('en-US')}`,
  ].join('\n');
}
