import type { Module } from '@convkit/layers';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type AttributeMessage,
  AttributeType,
  DataType,
  type NodeMessage,
  type TensorMessage,
} from './internal/onnx-proto';

/**
 * How an ONNX tensor's axes relate to the convkit tensor it stands for:
 * - `nchw`: a rank-4 activation, convkit `[N, H, W, C]`, stored `[N, C, H, W]` (PyTorch's and
 *   torchvision's ONNX layout; every rank-4 activation of an exported graph is NCHW);
 * - `plain`: the same axes as convkit;
 * - `flattened-chw`: a `Flatten` of an NCHW map, `[N, C * H * W]` in PyTorch's C, H, W order,
 *   where convkit's features come in H, W, C order (`flattenedFrom` gives `[C, H, W]`). A
 *   following `Linear` permutes its weight rows to match (as a PyTorch export would have them);
 *   anything else gets the features in convkit's order first (`OnnxGraph.plain`).
 */
export type OnnxLayout = 'nchw' | 'plain' | 'flattened-chw';

/** A tensor of the graph being built. */
export interface OnnxValue {
  /** The ONNX value name. */
  readonly name: string;
  /** convkit's shape of the tensor (NHWC for rank 4); the batch axis stays symbolic in the file. */
  readonly shape: readonly number[];
  readonly layout: OnnxLayout;
  /** `[C, H, W]` of the map a `flattened-chw` value came from. */
  readonly flattenedFrom?: readonly [number, number, number];
}

/** A float attribute (plain numbers are written as ints). */
export class FloatAttribute {
  constructor(readonly value: number) {}
}

/** An attribute value: a number is an INT, an array of numbers INTS, a string STRING. */
export type AttributeValue = number | number[] | string | FloatAttribute | FloatAttribute[];

/** `float(0.5)`: a FLOAT attribute. */
export const float = (value: number): FloatAttribute => new FloatAttribute(value);

/**
 * Exports one module: receives the module, the graph and the input values, adds nodes, returns
 * the output value. Register one per module type with `registerOnnxExporter`.
 */
export type ModuleExporter<M extends Module = Module> = (
  module: M,
  graph: OnnxGraph,
  ...inputs: OnnxValue[]
) => OnnxValue;

/** @internal Finds the exporter of a module (the registry), set by the exporter. */
export type ExporterLookup = (module: Module) => ModuleExporter | undefined;

interface Initializer {
  name: string;
  dims: number[];
  type: 'float' | 'int64';
  data: Float32Array | number[];
}

/** NCHW axis of a convkit NHWC axis. */
export const NCHW_AXIS = [0, 2, 3, 1];

/**
 * The ONNX graph an export builds: values, nodes and initializers. Module exporters add nodes
 * with `node`, constants with `constant`, read parameters with `read`, and run child modules
 * with `run` (which finds their exporter and names them in errors).
 */
export class OnnxGraph {
  readonly nodes: NodeMessage[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly names = new Set<string>();
  private readonly shared = new Map<string, string>();
  /** The path of the module being exported (for node names and errors). */
  private scope: string[] = [];

  constructor(
    private readonly lookup: ExporterLookup,
    private readonly cache: Map<tf.Tensor, Float32Array>,
    /** The ONNX opset the graph targets. */
    readonly opset: number,
  ) {}

  /** A name not used yet, from `hint`. */
  uniqueName(hint: string): string {
    const base = hint || 'value';
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** The path of the module being exported, `''` at the root. */
  get path(): string {
    return this.scope.at(-1) ?? '';
  }

  /** A value of this graph. */
  value(
    name: string,
    shape: readonly number[],
    layout: OnnxLayout,
    flattenedFrom?: readonly [number, number, number],
  ): OnnxValue {
    return { name, shape: [...shape], layout, ...(flattenedFrom ? { flattenedFrom } : {}) };
  }

  /**
   * Add a node; returns its output names (`outputs` of them), named after the current module
   * path and `hint`.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    { hint = opType, outputs = 1 }: { hint?: string; outputs?: number } = {},
  ): string[] {
    const base = this.path ? `${this.path}/${hint}` : hint;
    const names = Array.from({ length: outputs }, (_, i) =>
      this.uniqueName(outputs === 1 ? base : `${base}:${i}`),
    );
    this.nodes.push({
      name: names[0],
      opType,
      input: inputs,
      output: names,
      attribute: Object.entries(attributes).map(([name, v]) => toAttribute(name, v)),
    });
    return names;
  }

  /** Add a node with one output and return it as a value. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue>,
    shape: readonly number[],
    layout: OnnxLayout,
    hint?: string,
  ): OnnxValue {
    const [name] = this.node(opType, inputs, attributes, { hint });
    return this.value(name, shape, layout);
  }

  /** A float initializer; `dims` is its ONNX shape. */
  constant(hint: string, data: Float32Array | number[], dims: number[]): string {
    const name = this.uniqueName(hint);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(
        `@convkit/onnx: constant ${name} has ${values.length} values for dims [${dims}]`,
      );
    }
    this.initializers.set(name, { name, dims, type: 'float', data: values });
    return name;
  }

  /** An int64 initializer (shapes, axes, pads). */
  int64(hint: string, data: number[], dims: number[] = [data.length]): string {
    const name = this.uniqueName(hint);
    this.initializers.set(name, { name, dims, type: 'int64', data: [...data] });
    return name;
  }

  /**
   * A parameter (or any tensor) as an initializer, after `transform` (its ONNX layout); the same
   * tensor with the same `key` gives the same initializer (shared weights stay shared).
   */
  parameter(
    hint: string,
    tensor: tf.Tensor,
    dims: number[],
    transform: (values: Float32Array) => Float32Array = (v) => v,
    key = 'as-is',
  ): string {
    const id = `${tensorId(tensor)}:${key}`;
    const known = this.shared.get(id);
    if (known) return known;
    const name = this.constant(hint, transform(this.read(tensor)), dims);
    this.shared.set(id, name);
    return name;
  }

  /** A tensor's values (read before the walk, so exporters stay synchronous). */
  read(tensor: tf.Tensor): Float32Array {
    let values = this.cache.get(tensor);
    if (!values) {
      values = Float32Array.from(tensor.dataSync() as ArrayLike<number>);
      this.cache.set(tensor, values);
    }
    return values;
  }

  /** The float values of an initializer (for graph rewrites such as BatchNorm folding). */
  initializerValues(name: string): Float32Array | undefined {
    const init = this.initializers.get(name);
    return init?.type === 'float' ? (init.data as Float32Array) : undefined;
  }

  /** Replace the values of a float initializer of the same size. */
  setInitializerValues(name: string, values: Float32Array): void {
    const init = this.initializers.get(name);
    if (init?.type !== 'float' || init.data.length !== values.length) {
      throw new Error(`@convkit/onnx: no float initializer ${name} of ${values.length} values`);
    }
    init.data = values;
  }

  /** Export `module` on `inputs` through its registered exporter. */
  run(module: Module, ...inputs: OnnxValue[]): OnnxValue {
    const exporter = this.lookup(module);
    const type = module.constructor.name;
    const path = module.path || '(root)';
    if (!exporter) {
      throw new Error(
        `@convkit/onnx: cannot export module ${path} (${type}): no ONNX exporter is registered for ${type}; register one with registerOnnxExporter(${type}, exporter)`,
      );
    }
    this.scope.push(module.path || type);
    try {
      return exporter(module, this, ...inputs);
    } finally {
      this.scope.pop();
    }
  }

  /** The value as an NCHW tensor name (transposing a `plain` rank-4 value). */
  nchw(value: OnnxValue): string {
    if (value.shape.length !== 4) {
      throw new Error(
        `@convkit/onnx: ${this.path || 'graph'} expected a rank-4 input, received shape [${value.shape}]`,
      );
    }
    if (value.layout === 'nchw') return value.name;
    return this.node('Transpose', [value.name], { perm: [0, 3, 1, 2] }, { hint: 'to_nchw' })[0];
  }

  /** The value with convkit's axis order (transposing NCHW maps, reordering CHW features). */
  plain(value: OnnxValue): OnnxValue {
    if (value.layout === 'plain') return value;
    if (value.layout === 'nchw') {
      const [name] = this.node(
        'Transpose',
        [value.name],
        { perm: [0, 2, 3, 1] },
        { hint: 'to_nhwc' },
      );
      return this.value(name, value.shape, 'plain');
    }
    const [c, h, w] = value.flattenedFrom as [number, number, number];
    const map = this.node(
      'Reshape',
      [value.name, this.int64('shape', [0, c, h, w])],
      {},
      {
        hint: 'unflatten',
      },
    )[0];
    const nhwc = this.node('Transpose', [map], { perm: [0, 2, 3, 1] }, { hint: 'to_nhwc' })[0];
    const [flat] = this.node('Flatten', [nhwc], { axis: 1 }, { hint: 'flatten_hwc' });
    return this.value(flat, value.shape, 'plain');
  }

  /** Every initializer still used by a node, as TensorProto messages. */
  initializerMessages(): TensorMessage[] {
    const used = new Set(this.nodes.flatMap((n) => n.input));
    return [...this.initializers.values()]
      .filter((init) => used.has(init.name))
      .map((init) => ({
        name: init.name,
        dims: init.dims,
        dataType: init.type === 'float' ? DataType.FLOAT : DataType.INT64,
        rawData:
          init.type === 'float'
            ? floatBytes(init.data as Float32Array)
            : int64Bytes(init.data as number[]),
      }));
  }

  /** Whether `name` is an initializer. */
  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }
}

const tensorIds = new WeakMap<tf.Tensor, number>();
let nextTensorId = 0;
function tensorId(t: tf.Tensor): number {
  let id = tensorIds.get(t);
  if (id === undefined) {
    id = nextTensorId++;
    tensorIds.set(t, id);
  }
  return id;
}

function toAttribute(name: string, v: AttributeValue): AttributeMessage {
  if (v instanceof FloatAttribute) return { name, type: AttributeType.FLOAT, f: v.value };
  if (typeof v === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) {
      throw new Error(`@convkit/onnx: attribute ${name} = ${v} is not an integer; use float()`);
    }
    return { name, type: AttributeType.INT, i: v };
  }
  if (v.length > 0 && v[0] instanceof FloatAttribute) {
    return {
      name,
      type: AttributeType.FLOATS,
      floats: (v as FloatAttribute[]).map((f) => f.value),
    };
  }
  return { name, type: AttributeType.INTS, ints: v as number[] };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of float32 values (ONNX raw_data). */
function floatBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN)
    return new Uint8Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function int64Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i]), true);
  return out;
}
