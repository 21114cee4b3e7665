import type { Module } from '@convkit/layers';
import type { ModuleExporter, OnnxGraph, OnnxValue } from '../onnx-graph';

/**
 * Exporters of the @convkit/zoo models and blocks, registered by type name so that this package
 * does not depend on the zoo. Each one reads the block's fields (torchvision's names) and
 * mirrors its `forward`; a module of the same name without those fields is refused by name.
 */

type Fields = Record<string, unknown>;

function child(module: Module, name: string): Module {
  const value = (module as unknown as Fields)[name];
  if (!value || typeof (value as Module).forward !== 'function') {
    throw new Error(
      `@convkit/onnx: cannot export module ${module.path || '(root)'} (${module.constructor.name}): expected a submodule '${name}' as in @convkit/zoo's ${module.constructor.name}, found ${value === undefined ? 'none' : typeof value}`,
    );
  }
  return value as Module;
}

function optionalChild(module: Module, name: string): Module | undefined {
  return (module as unknown as Fields)[name] === undefined ? undefined : child(module, name);
}

function children(module: Module, name: string): Module[] {
  const value = (module as unknown as Fields)[name];
  if (!Array.isArray(value)) child(module, name);
  return value as Module[];
}

function config<T>(module: Module): T {
  return module.config as T;
}

/** Run the named children in order. */
const chain =
  (...names: string[]): ModuleExporter =>
  (m, graph, x) =>
    names.reduce((h, name) => graph.run(child(m, name), h), x);

function add(graph: OnnxGraph, a: OnnxValue, b: OnnxValue): OnnxValue {
  return graph.op('Add', [graph.nchw(a), graph.nchw(b)], {}, a.shape, 'nchw', 'residual');
}

function concat(graph: OnnxGraph, parts: OnnxValue[]): OnnxValue {
  const shape = [...parts[0].shape];
  shape[3] = parts.reduce((sum, p) => sum + p.shape[3], 0);
  const names = parts.map((p) => graph.nchw(p));
  return graph.op('Concat', names, { axis: 1 }, shape, 'nchw', 'concat');
}

/** torchvision's BasicBlock / Bottleneck: conv-bn(-relu) pairs, [SE], + shortcut, ReLU. */
const residualBlock =
  (depth: number): ModuleExporter =>
  (m, graph, x) => {
    const relu = child(m, 'relu');
    let h = x;
    for (let i = 1; i <= depth; i++) {
      h = graph.run(child(m, `bn${i}`), graph.run(child(m, `conv${i}`), h));
      if (i < depth) h = graph.run(relu, h);
    }
    const se = optionalChild(m, 'se');
    if (se) h = graph.run(se, h);
    const downsample = optionalChild(m, 'downsample');
    const identity = downsample ? graph.run(downsample, x) : x;
    return graph.run(relu, add(graph, h, identity));
  };

/** The CIFAR ResNet block; option A subsamples and zero-pads the channels of the shortcut. */
const cifarBasicBlock: ModuleExporter = (m, graph, x) => {
  const { inplanes, planes, stride } = config<{ inplanes: number; planes: number; stride: number }>(
    m,
  );
  const relu = child(m, 'relu');
  let h = graph.run(relu, graph.run(child(m, 'bn1'), graph.run(child(m, 'conv1'), x)));
  h = graph.run(child(m, 'bn2'), graph.run(child(m, 'conv2'), h));
  let identity = x;
  if (stride !== 1 || inplanes !== planes) {
    const downsample = optionalChild(m, 'downsample');
    if (downsample) {
      identity = graph.run(downsample, x);
    } else {
      let sub = graph.nchw(x);
      if (stride !== 1) {
        [sub] = graph.node(
          'AveragePool',
          [sub],
          { kernel_shape: [1, 1], strides: [stride, stride] },
          {
            hint: 'subsample',
          },
        );
      }
      const pad = (planes - inplanes) / 2;
      const pads = graph.int64('pads', [0, pad, 0, 0, 0, pad, 0, 0]);
      const [padded] = graph.node(
        'Pad',
        [sub, pads],
        { mode: 'constant' },
        { hint: 'pad_channels' },
      );
      identity = graph.value(padded, h.shape, 'nchw');
    }
  }
  return graph.run(relu, add(graph, h, identity));
};

const inception: ModuleExporter = (m, graph, x) =>
  concat(
    graph,
    ['branch1', 'branch2', 'branch3', 'branch4'].map((b) => graph.run(child(m, b), x)),
  );

const fire: ModuleExporter = (m, graph, x) => {
  const s = graph.run(child(m, 'squeeze_activation'), graph.run(child(m, 'squeeze'), x));
  const e1 = graph.run(child(m, 'expand1x1_activation'), graph.run(child(m, 'expand1x1'), s));
  const e3 = graph.run(child(m, 'expand3x3_activation'), graph.run(child(m, 'expand3x3'), s));
  return concat(graph, [e1, e3]);
};

const invertedResidual: ModuleExporter = (m, graph, x) => {
  const c = config<{ inChannels: number; outChannels: number; stride: number }>(m);
  const out = graph.run(child(m, 'conv'), x);
  return c.stride === 1 && c.inChannels === c.outChannels ? add(graph, x, out) : out;
};

const doubleConv: ModuleExporter = (m, graph, x) => {
  const relu = child(m, 'relu');
  let h = graph.run(child(m, 'conv1'), x);
  const bn1 = optionalChild(m, 'bn1');
  h = graph.run(relu, bn1 ? graph.run(bn1, h) : h);
  h = graph.run(child(m, 'conv2'), h);
  const bn2 = optionalChild(m, 'bn2');
  return graph.run(relu, bn2 ? graph.run(bn2, h) : h);
};

const unet: ModuleExporter = (m, graph, x) => {
  const pool = child(m, 'pool');
  const skips: OnnxValue[] = [];
  let h = x;
  for (const block of children(m, 'encoder')) {
    h = graph.run(block, h);
    skips.push(h);
    h = graph.run(pool, h);
  }
  h = graph.run(child(m, 'bottleneck'), h);
  const upsample = children(m, 'upsample');
  children(m, 'decoder').forEach((decoder, j) => {
    const up = graph.run(upsample[j], h);
    h = graph.run(decoder, concat(graph, [skips[skips.length - 1 - j], up]));
  });
  return graph.run(child(m, 'head'), h);
};

/** GoogLeNet in inference: the auxiliary classifiers are skipped (torchvision's eval mode). */
const googlenet: ModuleExporter = (m, graph, x) => {
  let h = x;
  const { transformInput } = config<{ transformInput: boolean }>(m);
  if (transformInput) {
    // torchvision's _transform_input: x * std / 0.5 + (mean - 0.5) / 0.5 per channel.
    const info = (m as unknown as { info: { mean: readonly number[]; std: readonly number[] } })
      .info;
    const c = info.mean.length;
    const scale = graph.constant(
      'transform_scale',
      info.std.map((s) => s / 0.5),
      [c, 1, 1],
    );
    const shift = graph.constant(
      'transform_shift',
      info.mean.map((v) => (v - 0.5) / 0.5),
      [c, 1, 1],
    );
    const [scaled] = graph.node('Mul', [graph.nchw(x), scale], {}, { hint: 'transform_scale' });
    const [shifted] = graph.node('Add', [scaled, shift], {}, { hint: 'transform_shift' });
    h = graph.value(shifted, x.shape, 'nchw');
  }
  return chain(
    'conv1',
    'maxpool1',
    'conv2',
    'conv3',
    'maxpool2',
    'inception3a',
    'inception3b',
    'maxpool3',
    'inception4a',
    'inception4b',
    'inception4c',
    'inception4d',
    'inception4e',
    'maxpool4',
    'inception5a',
    'inception5b',
    'avgpool',
    'flatten',
    'dropout',
    'fc',
  )(m, graph, h);
};

/** The zoo's exporters by type name. */
export const ZOO_EXPORTERS: [string, ModuleExporter][] = [
  ['LeNet5', chain('features', 'flatten', 'classifier')],
  ['AlexNet', chain('features', 'avgpool', 'flatten', 'classifier')],
  ['VGG', chain('features', 'avgpool', 'flatten', 'classifier')],
  ['MobileNetV2', chain('features', 'avgpool', 'flatten', 'classifier')],
  ['SqueezeNet', chain('features', 'classifier', 'flatten')],
  [
    'ResNet',
    chain(
      'conv1',
      'bn1',
      'relu',
      'maxpool',
      'layer1',
      'layer2',
      'layer3',
      'layer4',
      'avgpool',
      'flatten',
      'fc',
    ),
  ],
  [
    'CifarResNet',
    chain('conv1', 'bn1', 'relu', 'layer1', 'layer2', 'layer3', 'avgpool', 'flatten', 'fc'),
  ],
  ['GoogLeNet', googlenet],
  ['UNet', unet],
  ['BasicBlock', residualBlock(2)],
  ['Bottleneck', residualBlock(3)],
  ['CifarBasicBlock', cifarBasicBlock],
  ['BasicConv2d', chain('conv', 'bn', 'relu')],
  ['Inception', inception],
  ['InceptionAux', chain('pool', 'conv', 'flatten', 'fc1', 'relu', 'dropout', 'fc2')],
  ['InvertedResidual', invertedResidual],
  ['Fire', fire],
  ['DoubleConv', doubleConv],
];
