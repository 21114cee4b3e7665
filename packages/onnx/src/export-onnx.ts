import type { AnyModule, Module } from '@convkit/layers';
import type * as tf from '@tensorflow/tfjs-core';
import { findOnnxExporter } from './exporter-registry';
import { foldBatchNorms } from './internal/fold-batch-norm';
import {
  DataType,
  encodeModel,
  IR_VERSION,
  type ModelMessage,
  type ValueInfoMessage,
} from './internal/onnx-proto';
import { OnnxGraph, type OnnxValue } from './onnx-graph';

export interface ExportOnnxOptions {
  /**
   * convkit's input shape `[N, H, W, C]` (NHWC). The file's input is PyTorch's `[N, C, H, W]`,
   * with the batch axis symbolic (`N`) unless `dynamicBatch` is false.
   */
  inputShape: readonly number[];
  /** Fold each BatchNorm that follows a convolution into its weights and bias. Default false. */
  foldBatchNorm?: boolean;
  /** ONNX opset, 13 to 21. Default 17. */
  opset?: number;
  /** A symbolic batch axis. Default true. */
  dynamicBatch?: boolean;
  /** Graph input and output names. Default 'input' and 'output'. */
  inputName?: string;
  outputName?: string;
  /** Written to the graph's name. Default: the model's type. */
  graphName?: string;
}

/** Metadata keys a convkit export writes (`metadata_props`). */
export const ONNX_METADATA = {
  /** The input's layout in the file: always 'NCHW' for a rank-4 input. */
  inputLayout: 'convkit.input_layout',
  /** 'NCHW' when the output is a rank-4 map, 'plain' when it has convkit's axes. */
  outputLayout: 'convkit.output_layout',
  /** The convkit input shape the graph was traced with (JSON). */
  inputShape: 'convkit.input_shape',
  /** The exported model's type. */
  modelType: 'convkit.model_type',
} as const;

const PRODUCER_VERSION = '0.1.0';

/**
 * The inference graph of `model` as an ONNX ModelProto (bytes), as `torch.onnx.export` would
 * write it: NCHW input and rank-4 maps, weights in PyTorch's layouts (OIHW, ...), dropout
 * removed and BatchNorm with its running statistics (eval mode, whatever the module's mode).
 * Each module is exported by the exporter registered for its type (`registerOnnxExporter`);
 * a module without one is refused, naming its path and type.
 *
 * Reads the parameters asynchronously first (any backend), then builds the graph without
 * touching tensors.
 */
export async function exportOnnx(
  model: AnyModule,
  options: ExportOnnxOptions,
): Promise<Uint8Array> {
  const {
    inputShape,
    foldBatchNorm = false,
    opset = 17,
    dynamicBatch = true,
    inputName = 'input',
    outputName = 'output',
  } = options ?? ({} as ExportOnnxOptions);
  const type = model?.constructor?.name;
  if (!model || typeof model.namedModules !== 'function') {
    throw new Error(`exportOnnx: expected a convkit Module, received ${type ?? typeof model}`);
  }
  if (
    !Array.isArray(inputShape) ||
    inputShape.length < 2 ||
    !inputShape.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new Error(
      `exportOnnx: expected inputShape to be convkit's input shape with positive integer sizes (e.g. [1, 224, 224, 3]), received ${JSON.stringify(inputShape)}`,
    );
  }
  if (!Number.isInteger(opset) || opset < 13 || opset > 21) {
    throw new Error(`exportOnnx: expected opset to be an integer from 13 to 21, received ${opset}`);
  }
  model.namedModules(); // records every module's path, for node names and errors
  model.outputShape([...inputShape]); // the model's own shape check, with its own message

  const values = new Map<tf.Tensor, Float32Array>();
  const tensors = [...model.namedParameters(), ...model.namedBuffers()]
    .map(([, m]) => m.variable)
    .filter((t) => t.dtype === 'float32');
  const data = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  for (const [i, t] of tensors.entries()) values.set(t, data[i]);

  const graph = new OnnxGraph(findOnnxExporter, values, opset);
  const rank4 = inputShape.length === 4;
  const input: OnnxValue = graph.value(
    graph.uniqueName(inputName),
    inputShape,
    rank4 ? 'nchw' : 'plain',
  );
  let output = graph.run(model as Module, input); // the eval-mode graph: one output;
  if (
    output.layout === 'flattened-chw' ||
    (output.shape.length !== 4 && output.layout !== 'plain')
  ) {
    output = graph.plain(output);
  }
  const outputRank4 = output.shape.length === 4;
  const outputOnnx = outputRank4 ? graph.nchw(output) : output.name;
  // The graph output gets its own name (an Identity when it is the input or an inner value).
  graph.node('Identity', [outputOnnx], {}, { hint: outputName });
  const finalName = graph.nodes.at(-1)!.output[0];
  if (foldBatchNorm) foldBatchNorms(graph, new Set([finalName]));

  const onnxShape = (shape: readonly number[], nchw: boolean) =>
    nchw ? [shape[0], shape[3], shape[1], shape[2]] : [...shape];
  const valueInfo = (name: string, shape: number[]): ValueInfoMessage => ({
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: {
          dim: shape.map((d, i) => (i === 0 && dynamicBatch ? { dimParam: 'N' } : { dimValue: d })),
        },
      },
    },
  });
  const message: ModelMessage = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: opset }],
    producerName: '@convkit/onnx',
    producerVersion: PRODUCER_VERSION,
    graph: {
      name: options.graphName ?? type,
      node: graph.nodes,
      initializer: graph.initializerMessages(),
      input: [valueInfo(input.name, onnxShape(inputShape, rank4))],
      output: [valueInfo(finalName, onnxShape(output.shape, outputRank4))],
    },
    metadataProps: [
      { key: ONNX_METADATA.inputLayout, value: rank4 ? 'NCHW' : 'plain' },
      { key: ONNX_METADATA.outputLayout, value: outputRank4 ? 'NCHW' : 'plain' },
      { key: ONNX_METADATA.inputShape, value: JSON.stringify(inputShape) },
      { key: ONNX_METADATA.modelType, value: type },
    ],
  };
  return encodeModel(message);
}
