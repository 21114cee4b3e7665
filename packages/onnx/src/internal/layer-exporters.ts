import { type LayoutOptions, PYTORCH_COUNTERPART, toPyTorchPermutation } from '@convkit/backend';
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  Add,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Concat,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Dropout2d,
  ELU,
  Flatten,
  GELU,
  GlobalAvgPool2d,
  Hardsigmoid,
  Hardswish,
  Identity,
  LeakyReLU,
  Linear,
  LocalResponseNorm,
  LogSoftmax,
  MaxPool2d,
  Mish,
  type Module,
  type Param,
  PReLU,
  ReLU,
  ReLU6,
  SELU,
  SELU_ALPHA,
  SELU_SCALE,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  SqueezeExcitation,
  Tanh,
  Upsample,
  ZeroPad2d,
} from '@convkit/layers';
import type { ModuleClass } from '../exporter-registry';
import {
  float,
  type ModuleExporter,
  NCHW_AXIS,
  type OnnxGraph,
  type OnnxValue,
} from '../onnx-graph';
import { transposeValues } from './transpose-values';

type Pair = [number, number];
const pair = (v: number | number[]): Pair => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** The same value with a new name (elementwise ops keep shape and layout). */
function like(x: OnnxValue, name: string): OnnxValue {
  return { ...x, name };
}

function refuse(module: Module, why: string): never {
  throw new Error(
    `@convkit/onnx: cannot export module ${module.path || '(root)'} (${module.constructor.name}): ${why}`,
  );
}

/** The axis of a convkit `dim` in the ONNX tensor of `x`. */
function onnxAxis(module: Module, x: OnnxValue, dim: number): number {
  const rank = x.shape.length;
  const axis = dim < 0 ? dim + rank : dim;
  if (axis < 0 || axis >= rank) refuse(module, `dim ${dim} is out of range for shape [${x.shape}]`);
  return x.layout === 'nchw' ? NCHW_AXIS[axis] : axis;
}

/** Per-channel constant `[C]` shaped to broadcast over `x` (NCHW: `[C, 1, 1]`). */
function channelConstant(graph: OnnxGraph, hint: string, values: Float32Array, x: OnnxValue) {
  const dims = x.layout === 'nchw' ? [values.length, 1, 1] : [values.length];
  return graph.constant(hint, values, dims);
}

// ---- convolution -------------------------------------------------------------------------

function convPads(m: Conv2d): [Pair, Pair] {
  const { padding } = m.config;
  const k = pair(m.config.kernelSize);
  const d = pair(m.config.dilation);
  if (padding === 'valid') {
    return [
      [0, 0],
      [0, 0],
    ];
  }
  if (padding === 'same') {
    return [0, 1].map((i) => {
      const total = d[i] * (k[i] - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }) as [Pair, Pair];
  }
  const p = pair(padding);
  return [
    [p[0], p[0]],
    [p[1], p[1]],
  ];
}

const PAD_MODES = { reflect: 'reflect', replicate: 'edge', circular: 'wrap' } as const;

/**
 * A weight as an initializer in PyTorch's layout (ONNX's Conv and ConvTranspose use PyTorch's
 * OIHW / IOHW, as does Gemm with transB), converted as `@convkit/backend` defines the layout.
 */
function pytorchWeight(
  graph: OnnxGraph,
  path: string,
  param: Param,
  options: LayoutOptions = {},
): string {
  const p = toPyTorchPermutation(param.shape, param.layout, options);
  const key = `${PYTORCH_COUNTERPART[param.layout]}-${options.flattenedFrom ?? ''}`;
  return graph.parameter(
    `${path}.weight`,
    param.variable,
    p.shape,
    (v) => transposeValues(v, p.split, p.perm),
    key,
  );
}

const conv2d: ModuleExporter<Conv2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const { groups, outChannels, paddingMode } = m.config;
  const k = pair(m.config.kernelSize);
  let input = graph.nchw(x);
  let [ph, pw] = convPads(m);
  if (paddingMode !== 'zeros' && (ph[0] || ph[1] || pw[0] || pw[1])) {
    if (paddingMode === 'circular' && graph.opset < 19) {
      refuse(
        m,
        `paddingMode 'circular' needs ONNX opset 19 or later (Pad mode 'wrap'), the export targets opset ${graph.opset}`,
      );
    }
    const pads = graph.int64('pads', [0, 0, ph[0], pw[0], 0, 0, ph[1], pw[1]]);
    [input] = graph.node('Pad', [input, pads], { mode: PAD_MODES[paddingMode] }, { hint: 'pad' });
    ph = [0, 0];
    pw = [0, 0];
  }
  const inputs = [input, pytorchWeight(graph, m.path, m.weight)];
  if (m.bias) inputs.push(graph.parameter(`${m.path}.bias`, m.bias.variable, [outChannels]));
  return graph.op(
    'Conv',
    inputs,
    {
      kernel_shape: k,
      strides: pair(m.config.stride),
      pads: [ph[0], pw[0], ph[1], pw[1]],
      dilations: pair(m.config.dilation),
      group: groups,
    },
    out,
    'nchw',
    'conv',
  );
};

const convTranspose2d: ModuleExporter<ConvTranspose2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const { groups, outChannels } = m.config;
  const k = pair(m.config.kernelSize);
  const p = pair(m.config.padding);
  const inputs = [graph.nchw(x), pytorchWeight(graph, m.path, m.weight)];
  if (m.bias) inputs.push(graph.parameter(`${m.path}.bias`, m.bias.variable, [outChannels]));
  return graph.op(
    'ConvTranspose',
    inputs,
    {
      kernel_shape: k,
      strides: pair(m.config.stride),
      pads: [p[0], p[1], p[0], p[1]],
      output_padding: pair(m.config.outputPadding),
      dilations: pair(m.config.dilation),
      group: groups,
    },
    out,
    'nchw',
    'conv_transpose',
  );
};

// ---- pooling -----------------------------------------------------------------------------

interface Window {
  size: number;
  kernel: number;
  stride: number;
  pad: number;
  dilation: number;
  out: number;
}

/** Per spatial axis: the window and the cells past the input the last window reaches. */
function windows(
  x: OnnxValue,
  out: readonly number[],
  c: {
    kernelSize: number | number[];
    stride: number | number[];
    padding: number | number[];
    dilation?: number | number[];
  },
): [Window & { after: number }, Window & { after: number }] {
  const k = pair(c.kernelSize);
  const s = pair(c.stride);
  const p = pair(c.padding);
  const d = pair(c.dilation ?? 1);
  return [0, 1].map((i) => {
    const size = x.shape[i + 1];
    const reach = (out[i + 1] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - p[i] - size;
    return {
      size,
      kernel: k[i],
      stride: s[i],
      pad: p[i],
      dilation: d[i],
      out: out[i + 1],
      after: Math.max(reach, 0),
    };
  }) as [Window & { after: number }, Window & { after: number }];
}

const maxPool2d: ModuleExporter<MaxPool2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [h, w] = windows(x, out, m.config);
  // Explicit end padding reproduces PyTorch's ceil-mode rule (a window must start inside the
  // input or the left padding); ONNX's ceil_mode lacks that rule.
  return graph.op(
    'MaxPool',
    [graph.nchw(x)],
    {
      kernel_shape: [h.kernel, w.kernel],
      strides: [h.stride, w.stride],
      pads: [h.pad, w.pad, h.after, w.after],
      dilations: [h.dilation, w.dilation],
    },
    out,
    'nchw',
    'max_pool',
  );
};

const avgPool2d: ModuleExporter<AvgPool2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [h, w] = windows(x, out, m.config);
  const { countIncludePad, divisorOverride } = m.config;
  let input = graph.nchw(x);
  const padded = (pads: number[]) =>
    graph.node('Pad', [input, graph.int64('pads', pads)], { mode: 'constant' }, { hint: 'pad' })[0];
  const pool = (from: string, pads: number[], hint = 'avg_pool') =>
    graph.node(
      'AveragePool',
      [from],
      {
        kernel_shape: [h.kernel, w.kernel],
        strides: [h.stride, w.stride],
        pads,
        count_include_pad: 0,
      },
      { hint },
    )[0];
  let y: string;
  if (divisorOverride !== null && divisorOverride !== undefined) {
    // Zero-padded windows of k*k cells, then rescaled to the fixed divisor.
    if (h.pad || w.pad || h.after || w.after) {
      input = padded([0, 0, h.pad, w.pad, 0, 0, h.after, w.after]);
    }
    const mean = pool(input, [0, 0, 0, 0]);
    const factor = graph.constant('divisor_factor', [(h.kernel * w.kernel) / divisorOverride], []);
    [y] = graph.node('Mul', [mean, factor], {}, { hint: 'divisor' });
  } else if (countIncludePad) {
    // PyTorch counts the padding inside [-p, size + p) but not the ceil-mode cells beyond it:
    // real zeros for the padding, then ONNX pads (not counted) for the cells beyond.
    if (h.pad || w.pad) input = padded([0, 0, h.pad, w.pad, 0, 0, h.pad, w.pad]);
    y = pool(input, [0, 0, Math.max(h.after - h.pad, 0), Math.max(w.after - w.pad, 0)]);
  } else {
    y = pool(input, [h.pad, w.pad, h.after, w.after]);
  }
  return graph.value(y, out, 'nchw');
};

/** PyTorch's adaptive bins: floor(i * in / out) to ceil((i + 1) * in / out). */
function adaptiveBins(size: number, out: number): Pair[] {
  return Array.from({ length: out }, (_, i) => [
    Math.floor((i * size) / out),
    Math.ceil(((i + 1) * size) / out),
  ]);
}

const adaptiveAvgPool2d: ModuleExporter<AdaptiveAvgPool2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [, h, w] = x.shape;
  const [, oh, ow] = out;
  const input = graph.nchw(x);
  if (oh === 1 && ow === 1) {
    return graph.op('GlobalAveragePool', [input], {}, out, 'nchw', 'avg_pool');
  }
  if (h % oh === 0 && w % ow === 0) {
    const k = [h / oh, w / ow];
    return graph.op(
      'AveragePool',
      [input],
      { kernel_shape: k, strides: k },
      out,
      'nchw',
      'avg_pool',
    );
  }
  // Unequal, overlapping bins: an averaging matrix per axis (convkit computes it the same way).
  const matrix = (size: number, n: number) => {
    const values = new Float32Array(n * size);
    adaptiveBins(size, n).forEach(([s, e], i) => {
      for (let j = s; j < e; j++) values[i * size + j] = 1 / (e - s);
    });
    return values;
  };
  let y = input;
  if (w !== ow) {
    const mw = transposeValues(matrix(w, ow), [ow, w], [1, 0]);
    [y] = graph.node('MatMul', [y, graph.constant('bins_w', mw, [w, ow])], {}, { hint: 'bins_w' });
  }
  if (h !== oh) {
    [y] = graph.node(
      'MatMul',
      [graph.constant('bins_h', matrix(h, oh), [oh, h]), y],
      {},
      {
        hint: 'bins_h',
      },
    );
  }
  return graph.value(y, out, 'nchw');
};

const adaptiveMaxPool2d: ModuleExporter<AdaptiveMaxPool2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [, h, w] = x.shape;
  const [, oh, ow] = out;
  const input = graph.nchw(x);
  if (h % oh === 0 && w % ow === 0) {
    const k = [h / oh, w / ow];
    return graph.op('MaxPool', [input], { kernel_shape: k, strides: k }, out, 'nchw', 'max_pool');
  }
  // The maximum over each row bin, then over each column bin.
  const along = (from: string, axis: 2 | 3, size: number, n: number) => {
    const parts = adaptiveBins(size, n).map(([s, e]) => {
      const [slice] = graph.node(
        'Slice',
        [from, graph.int64('starts', [s]), graph.int64('ends', [e]), graph.int64('axes', [axis])],
        {},
        { hint: 'bin' },
      );
      return graph.node(
        'ReduceMax',
        [slice],
        { axes: [axis], keepdims: 1 },
        { hint: 'bin_max' },
      )[0];
    });
    return parts.length === 1
      ? parts[0]
      : graph.node('Concat', parts, { axis }, { hint: 'bins' })[0];
  };
  return graph.value(along(along(input, 2, h, oh), 3, w, ow), out, 'nchw');
};

const globalAvgPool2d: ModuleExporter<GlobalAvgPool2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [pooled] = graph.node('GlobalAveragePool', [graph.nchw(x)], {}, { hint: 'avg_pool' });
  if (m.config.keepDims) return graph.value(pooled, out, 'nchw');
  return graph.op('Flatten', [pooled], { axis: 1 }, out, 'plain', 'flatten');
};

// ---- normalization -----------------------------------------------------------------------

/** `[scale, shift]` of an eval-mode BatchNorm: y = x * scale + shift. */
export function batchNormAffine(
  graph: OnnxGraph,
  m: BatchNorm1d | BatchNorm2d,
): [Float32Array, Float32Array] {
  const c = m.config.numFeatures;
  const mean = graph.read(m.running_mean!.variable);
  const variance = graph.read(m.running_var!.variable);
  const gamma = m.weight ? graph.read(m.weight.variable) : undefined;
  const beta = m.bias ? graph.read(m.bias.variable) : undefined;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const s = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + m.config.eps);
    scale[i] = s;
    shift[i] = (beta ? beta[i] : 0) - mean[i] * s;
  }
  return [scale, shift];
}

function requireRunningStatistics(m: BatchNorm1d | BatchNorm2d): void {
  if (!m.config.trackRunningStats) {
    refuse(
      m,
      'a BatchNorm without running statistics (trackRunningStats false) normalizes with the statistics of each batch, which an inference graph does not compute',
    );
  }
}

const batchNorm2d: ModuleExporter<BatchNorm2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  requireRunningStatistics(m);
  const c = m.config.numFeatures;
  const path = m.path;
  const inputs = [
    graph.nchw(x),
    m.weight
      ? graph.parameter(`${path}.weight`, m.weight.variable, [c])
      : graph.constant(`${path}.weight`, new Float32Array(c).fill(1), [c]),
    m.bias
      ? graph.parameter(`${path}.bias`, m.bias.variable, [c])
      : graph.constant(`${path}.bias`, new Float32Array(c), [c]),
    graph.parameter(`${path}.running_mean`, m.running_mean!.variable, [c]),
    graph.parameter(`${path}.running_var`, m.running_var!.variable, [c]),
  ];
  return graph.op(
    'BatchNormalization',
    inputs,
    { epsilon: float(m.config.eps) },
    out,
    'nchw',
    'batch_norm',
  );
};

const batchNorm1d: ModuleExporter<BatchNorm1d> = (m, graph, input) => {
  const x = graph.plain(input);
  const out = m.outputShape([...x.shape]);
  requireRunningStatistics(m);
  const [scale, shift] = batchNormAffine(graph, m);
  const c = scale.length;
  const [scaled] = graph.node(
    'Mul',
    [x.name, graph.constant(`${m.path}.scale`, scale, [c])],
    {},
    {
      hint: 'scale',
    },
  );
  return graph.op(
    'Add',
    [scaled, graph.constant(`${m.path}.shift`, shift, [c])],
    {},
    out,
    'plain',
    'shift',
  );
};

const localResponseNorm: ModuleExporter<LocalResponseNorm> = (m, graph, x) => {
  const { size, alpha, beta, k } = m.config;
  if (x.shape.length !== 4)
    refuse(m, `only rank-4 inputs are exported, received shape [${x.shape}]`);
  if (size % 2 === 0) {
    refuse(
      m,
      `ONNX LRN centers an even window ${size} one channel later than PyTorch; only odd sizes are exported`,
    );
  }
  return graph.op(
    'LRN',
    [graph.nchw(x)],
    { size, alpha: float(alpha), beta: float(beta), bias: float(k) },
    x.shape,
    'nchw',
    'lrn',
  );
};

// ---- activations -------------------------------------------------------------------------

const unary =
  (opType: string, attributes: Record<string, ReturnType<typeof float>> = {}): ModuleExporter =>
  (_m, graph, x) =>
    like(x, graph.node(opType, [x.name], attributes, { hint: opType.toLowerCase() })[0]);

/** `x * f(x)` with `f` a chain of unary ops. */
const gated =
  (...ops: string[]): ModuleExporter =>
  (_m, graph, x) => {
    let h = x.name;
    for (const op of ops) [h] = graph.node(op, [h], {}, { hint: op.toLowerCase() });
    return like(x, graph.node('Mul', [x.name, h], {}, { hint: 'gate' })[0]);
  };

const relu6: ModuleExporter<ReLU6> = (_m, graph, x) =>
  like(
    x,
    graph.node(
      'Clip',
      [x.name, graph.constant('zero', [0], []), graph.constant('six', [6], [])],
      {},
      {
        hint: 'relu6',
      },
    )[0],
  );

const geluExporter: ModuleExporter<GELU> = (m, graph, x) => {
  const c = (hint: string, v: number) => graph.constant(hint, [v], []);
  const mul = (a: string, b: string) => graph.node('Mul', [a, b], {}, { hint: 'mul' })[0];
  const add = (a: string, b: string) => graph.node('Add', [a, b], {}, { hint: 'add' })[0];
  let inner: string;
  if (m.config.approximate === 'tanh') {
    const cube = graph.node('Pow', [x.name, c('three', 3)], {}, { hint: 'cube' })[0];
    const poly = add(x.name, mul(cube, c('k', 0.044715)));
    inner = graph.node(
      'Tanh',
      [mul(poly, c('sqrt_2_over_pi', Math.sqrt(2 / Math.PI)))],
      {},
      {
        hint: 'tanh',
      },
    )[0];
  } else {
    inner = graph.node('Erf', [mul(x.name, c('sqrt_half', Math.SQRT1_2))], {}, { hint: 'erf' })[0];
  }
  const half = mul(x.name, c('half', 0.5));
  return like(x, mul(half, add(inner, c('one', 1))));
};

const prelu: ModuleExporter<PReLU> = (m, graph, input) => {
  const n = m.config.numParameters;
  const x = n > 1 && input.layout === 'flattened-chw' ? graph.plain(input) : input;
  m.outputShape([...x.shape]);
  const slope =
    n > 1
      ? channelConstant(graph, `${m.path}.weight`, graph.read(m.weight.variable), x)
      : graph.parameter(`${m.path}.weight`, m.weight.variable, [1]);
  return like(x, graph.node('PRelu', [x.name, slope], {}, { hint: 'prelu' })[0]);
};

const alongDim =
  (opType: 'Softmax' | 'LogSoftmax'): ModuleExporter<Softmax | LogSoftmax> =>
  (m, graph, x) =>
    like(
      x,
      graph.node(
        opType,
        [x.name],
        { axis: onnxAxis(m, x, m.config.dim) },
        {
          hint: opType.toLowerCase(),
        },
      )[0],
    );

// ---- shape, composition ------------------------------------------------------------------

const passThrough: ModuleExporter = (_m, _graph, x) => x;

const flatten: ModuleExporter<Flatten> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const [name] = graph.node('Flatten', [x.name], { axis: 1 }, { hint: 'flatten' });
  if (x.layout === 'nchw' && x.shape[1] * x.shape[2] > 1) {
    const [, h, w, c] = x.shape;
    return graph.value(name, out, 'flattened-chw', [c, h, w]);
  }
  if (x.layout === 'flattened-chw') return graph.value(name, out, 'flattened-chw', x.flattenedFrom);
  return graph.value(name, out, 'plain');
};

const linear: ModuleExporter<Linear> = (m, graph, input) => {
  const { inFeatures, outFeatures } = m.config;
  const w = m.weight.variable;
  if (input.shape.length === 2) {
    const out = m.outputShape([...input.shape]);
    const flattenedFrom = input.layout === 'flattened-chw' ? input.flattenedFrom : undefined;
    // After a flatten of an NCHW map the features come in C, H, W order: write the weight in
    // PyTorch's layout, whose columns are in that order, instead of permuting the activations.
    const weight = flattenedFrom
      ? pytorchWeight(graph, m.path, m.weight, { flattenedFrom })
      : graph.parameter(`${m.path}.weight`, w, [inFeatures, outFeatures]);
    const inputs = [input.name, weight];
    if (m.bias) inputs.push(graph.parameter(`${m.path}.bias`, m.bias.variable, [outFeatures]));
    return graph.op('Gemm', inputs, flattenedFrom ? { transB: 1 } : {}, out, 'plain', 'gemm');
  }
  const x = graph.plain(input);
  const out = m.outputShape([...x.shape]);
  const [product] = graph.node(
    'MatMul',
    [x.name, graph.parameter(`${m.path}.weight`, w, [inFeatures, outFeatures])],
    {},
    { hint: 'matmul' },
  );
  if (!m.bias) return graph.value(product, out, 'plain');
  return graph.op(
    'Add',
    [product, graph.parameter(`${m.path}.bias`, m.bias.variable, [outFeatures])],
    {},
    out,
    'plain',
    'bias',
  );
};

/** Bring every input to one layout: NCHW for rank-4 maps, else the first's if all agree. */
function unify(graph: OnnxGraph, inputs: OnnxValue[]): OnnxValue[] {
  if (inputs.every((v) => v.shape.length === 4)) {
    return inputs.map((v) => graph.value(graph.nchw(v), v.shape, 'nchw'));
  }
  const first = inputs[0];
  const same = inputs.every(
    (v) => v.layout === first.layout && `${v.flattenedFrom}` === `${first.flattenedFrom}`,
  );
  return same ? inputs : inputs.map((v) => graph.plain(v));
}

const concat: ModuleExporter<Concat> = (m, graph, ...inputs) => {
  const out = m.outputShape(...inputs.map((v) => [...v.shape]));
  let values = unify(graph, inputs);
  if (values[0].layout === 'flattened-chw') values = values.map((v) => graph.plain(v));
  const axis = onnxAxis(m, values[0], m.config.dim);
  return graph.op(
    'Concat',
    values.map((v) => v.name),
    { axis },
    out,
    values[0].layout,
    'concat',
  );
};

const add: ModuleExporter<Add> = (m, graph, ...inputs) => {
  m.outputShape(...inputs.map((v) => [...v.shape]));
  const values = unify(graph, inputs);
  if (values.length === 1) return like(values[0], graph.node('Identity', [values[0].name])[0]);
  const op = values.length === 2 ? 'Add' : 'Sum';
  return like(
    values[0],
    graph.node(
      op,
      values.map((v) => v.name),
      {},
      { hint: 'add' },
    )[0],
  );
};

const sequential: ModuleExporter<Sequential> = (m, graph, x) =>
  m.layers.reduce((h, layer) => graph.run(layer, h), x);

const upsample: ModuleExporter<Upsample> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const { mode = 'nearest', alignCorners, scaleFactor } = m.config;
  const input = graph.nchw(x);
  let scales = '';
  let sizes = '';
  if (scaleFactor !== undefined && scaleFactor !== null) {
    // PyTorch maps with the given factor (1 / scaleFactor per output step), as Resize's scales.
    const [sh, sw] = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : scaleFactor;
    scales = graph.constant('scales', [1, 1, sh, sw], [4]);
  } else {
    const [shape] = graph.node('Shape', [input], {}, { hint: 'shape' });
    const [batchChannels] = graph.node(
      'Slice',
      [shape, graph.int64('starts', [0]), graph.int64('ends', [2])],
      {},
      { hint: 'batch_channels' },
    );
    [sizes] = graph.node(
      'Concat',
      [batchChannels, graph.int64('size', [out[1], out[2]])],
      { axis: 0 },
      {
        hint: 'sizes',
      },
    );
  }
  const attributes: Record<string, string> =
    mode === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : {
          mode: 'linear',
          coordinate_transformation_mode: alignCorners ? 'align_corners' : 'pytorch_half_pixel',
        };
  const inputs = sizes ? [input, '', '', sizes] : [input, '', scales];
  return graph.op('Resize', inputs, attributes, out, 'nchw', 'resize');
};

const zeroPad2d: ModuleExporter<ZeroPad2d> = (m, graph, x) => {
  const out = m.outputShape([...x.shape]);
  const p = m.config.padding;
  const [left, right, top, bottom] = typeof p === 'number' ? [p, p, p, p] : p;
  const pads = graph.int64('pads', [0, 0, top, left, 0, 0, bottom, right]);
  return graph.op('Pad', [graph.nchw(x), pads], { mode: 'constant' }, out, 'nchw', 'pad');
};

const squeezeExcitation: ModuleExporter<SqueezeExcitation> = (m, graph, x) => {
  m.outputShape([...x.shape]);
  const input = graph.nchw(x);
  const [n, , , c] = x.shape;
  const [pooled] = graph.node('GlobalAveragePool', [input], {}, { hint: 'squeeze' });
  let h = graph.value(pooled, [n, 1, 1, c], 'nchw');
  h = graph.run(m.activation, graph.run(m.fc1, h));
  h = graph.run(m.scale_activation, graph.run(m.fc2, h));
  return graph.op('Mul', [input, graph.nchw(h)], {}, x.shape, 'nchw', 'excite');
};

/** The built-in exporters of @convkit/layers, by class. */
export const LAYER_EXPORTERS: [ModuleClass, ModuleExporter][] = [
  [Conv2d, conv2d as ModuleExporter],
  [ConvTranspose2d, convTranspose2d as ModuleExporter],
  [MaxPool2d, maxPool2d as ModuleExporter],
  [AvgPool2d, avgPool2d as ModuleExporter],
  [AdaptiveAvgPool2d, adaptiveAvgPool2d as ModuleExporter],
  [AdaptiveMaxPool2d, adaptiveMaxPool2d as ModuleExporter],
  [GlobalAvgPool2d, globalAvgPool2d as ModuleExporter],
  [BatchNorm2d, batchNorm2d as ModuleExporter],
  [BatchNorm1d, batchNorm1d as ModuleExporter],
  [LocalResponseNorm, localResponseNorm as ModuleExporter],
  [ReLU, unary('Relu')],
  [ReLU6, relu6 as ModuleExporter],
  [Sigmoid, unary('Sigmoid')],
  [Tanh, unary('Tanh')],
  [
    LeakyReLU,
    (m, g, x) =>
      unary('LeakyRelu', { alpha: float((m as LeakyReLU).config.negativeSlope) })(m, g, x),
  ],
  [ELU, (m, g, x) => unary('Elu', { alpha: float((m as ELU).config.alpha) })(m, g, x)],
  [SELU, unary('Selu', { alpha: float(SELU_ALPHA), gamma: float(SELU_SCALE) })],
  [GELU, geluExporter as ModuleExporter],
  [SiLU, gated('Sigmoid')],
  [Mish, gated('Softplus', 'Tanh')],
  [Hardsigmoid, unary('HardSigmoid', { alpha: float(1 / 6), beta: float(0.5) })],
  [Hardswish, unary('HardSwish')],
  [PReLU, prelu as ModuleExporter],
  [Softmax, alongDim('Softmax') as ModuleExporter],
  [LogSoftmax, alongDim('LogSoftmax') as ModuleExporter],
  [Dropout, passThrough],
  [Dropout2d, passThrough],
  [Identity, passThrough],
  [Flatten, flatten as ModuleExporter],
  [Linear, linear as ModuleExporter],
  [Concat, concat as ModuleExporter],
  [Add, add as ModuleExporter],
  [Sequential, sequential as ModuleExporter],
  [Upsample, upsample as ModuleExporter],
  [ZeroPad2d, zeroPad2d as ModuleExporter],
  [SqueezeExcitation, squeezeExcitation as ModuleExporter],
];
