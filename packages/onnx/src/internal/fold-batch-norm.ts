import type { OnnxGraph } from '../onnx-graph';

/**
 * Fold every BatchNormalization that directly follows a Conv (whose output nothing else reads)
 * into the Conv's weight and bias: W' = W * s, b' = (b - mean) * s + beta with
 * s = gamma / sqrt(var + eps), computed in float64. Returns how many were folded.
 */
export function foldBatchNorms(graph: OnnxGraph, outputs: Set<string>): number {
  const producers = new Map(graph.nodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.input) readers.set(i, (readers.get(i) ?? 0) + 1);
  let folded = 0;
  for (const bn of [...graph.nodes]) {
    if (bn.opType !== 'BatchNormalization') continue;
    const conv = producers.get(bn.input[0]);
    if (conv?.opType !== 'Conv' || readers.get(bn.input[0]) !== 1 || outputs.has(bn.input[0]))
      continue;
    const weightName = conv.input[1];
    if (readers.get(weightName) !== 1 || (conv.input[2] && readers.get(conv.input[2]) !== 1))
      continue;
    const [gamma, beta, mean, variance] = bn.input.slice(1).map((n) => graph.initializerValues(n));
    const weight = graph.initializerValues(weightName);
    if (!gamma || !beta || !mean || !variance || !weight) continue;
    const eps = bn.attribute.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
    const bias = conv.input[2] ? graph.initializerValues(conv.input[2]) : undefined;
    const channels = gamma.length;
    const perChannel = weight.length / channels;
    const newWeight = new Float32Array(weight.length);
    const newBias = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      const s = gamma[o] / Math.sqrt(variance[o] + eps);
      for (let j = 0; j < perChannel; j++)
        newWeight[o * perChannel + j] = weight[o * perChannel + j] * s;
      newBias[o] = ((bias ? bias[o] : 0) - mean[o]) * s + beta[o];
    }
    graph.setInitializerValues(weightName, newWeight);
    const biasName =
      conv.input[2] ||
      graph.constant(`${weightName.replace(/\.weight$/, '')}.folded_bias`, newBias, [channels]);
    if (conv.input[2]) graph.setInitializerValues(biasName, newBias);
    conv.input = [conv.input[0], weightName, biasName];
    conv.output = [bn.output[0]];
    graph.nodes.splice(graph.nodes.indexOf(bn), 1);
    folded++;
  }
  return folded;
}
