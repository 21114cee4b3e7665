import { ONNX_METADATA } from './export-onnx';
import { DataType, decodeModel, type ValueInfoMessage } from './internal/onnx-proto';

/** What an ONNX file holds, without its weights. */
export interface OnnxModelInfo {
  producer: string;
  opset: number;
  /** Per graph input / output: name and shape (a string for a symbolic axis such as 'N'). */
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  /** Node count per op type, in order of first use. */
  ops: Record<string, number>;
  /** Parameter values stored in the file. */
  parameterCount: number;
  /** `metadata_props`. */
  metadata: Record<string, string>;
  /** The input's layout; for files not written by convkit, 'NCHW' when the input is rank 4. */
  inputLayout: 'NCHW' | 'plain';
  /** The output's layout; for files not written by convkit, 'NCHW' when the output is rank 4. */
  outputLayout: 'NCHW' | 'plain';
}

function shapeOf(v: ValueInfoMessage): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
    'dimParam' in d && d.dimParam ? d.dimParam : (d as { dimValue: number }).dimValue,
  );
}

/** Decode an ONNX ModelProto's structure (inputs, outputs, op counts, metadata). */
export function readOnnxModel(bytes: Uint8Array): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(
      `readOnnxModel: expected the file's bytes as a Uint8Array, received ${typeof bytes}`,
    );
  }
  const model = decodeModel(bytes);
  if (!model.graph || model.graph.node.length === 0) {
    throw new Error('readOnnxModel: the bytes hold no ONNX graph (no nodes)');
  }
  const ops: Record<string, number> = {};
  for (const n of model.graph.node) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  const inputs = model.graph.input
    .filter((v) => !initializers.has(v.name))
    .map((v) => ({ name: v.name, shape: shapeOf(v) }));
  const outputs = model.graph.output.map((v) => ({ name: v.name, shape: shapeOf(v) }));
  const layout = (key: string, rank: number) =>
    metadata[key] === 'plain' ? 'plain' : metadata[key] === 'NCHW' || rank === 4 ? 'NCHW' : 'plain';
  return {
    producer: model.producerName,
    opset: model.opsetImport.find((o) => !o.domain)?.version ?? 0,
    inputs,
    outputs,
    ops,
    parameterCount: model.graph.initializer
      .filter((t) => t.dataType === DataType.FLOAT)
      .reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0),
    metadata,
    inputLayout: layout(ONNX_METADATA.inputLayout, inputs[0]?.shape.length ?? 0),
    outputLayout: layout(ONNX_METADATA.outputLayout, outputs[0]?.shape.length ?? 0),
  };
}
