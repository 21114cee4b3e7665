import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { simdKernels } from './simd-kernels';

/**
 * Shared plumbing for convkit's WASM training kernels.
 *
 * The kernels compose the wasm backend's own kernels (XNNPACK-backed `Conv2D` and
 * `DepthwiseConv2dNative`, `Transpose`, `PadV2`, `Sum`) by calling their `kernelFunc`s
 * directly, below the engine: no tape, no tensor bookkeeping, only buffers on the wasm heap.
 * A `KernelScope` records every intermediate it creates and frees them all in `dispose()`,
 * except the one the caller `keep`s as the kernel's result.
 *
 * Views: a reshape of a contiguous buffer is a `TensorInfo` with the same `dataId` and another
 * shape; wasm kernels read by data id, so views cost nothing and own nothing.
 */

export type Info = tf.TensorInfo;
export type Pads = { top: number; bottom: number; left: number; right: number };
/** A wasm kernel function as tfjs calls it (also the shape of the ones convkit wraps). */
export type KernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: tf.NamedAttrMap;
}) => Info;

const kernelCache = new Map<string, KernelFunc>();

/** The wasm backend's own kernel `name` (looked up once). */
export function wasmKernel(name: string): KernelFunc {
  let fn = kernelCache.get(name);
  if (!fn) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`@convkit/backend: the wasm backend has no kernel ${name}`);
    fn = config.kernelFunc as unknown as KernelFunc;
    kernelCache.set(name, fn);
  }
  return fn;
}

/**
 * Set every element of `info` to zero, in wasm (`zeroBytes`) when the SIMD module runs: on the
 * threaded build's SharedArrayBuffer heap a typed array's `fill(0)` is 10x slower.
 */
export function zeroHeap(backend: BackendWasm, info: Info): void {
  const simd = simdKernels(backend);
  const data = backend.typedArrayFromHeap(info as never);
  if (simd) simd.zeroBytes(data.byteOffset, data.byteLength);
  else data.fill(0);
}

/** Same buffer, another shape of the same size. */
export function view(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export class KernelScope {
  private readonly owned: Info[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Run the wasm backend's kernel `name`; its output is freed on dispose unless kept. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const out = wasmKernel(name)({ inputs, backend: this.backend, attrs });
    this.owned.push(out);
    return out;
  }

  /** Take ownership of a kernel output produced outside `run`. */
  adopt(info: Info): Info {
    this.owned.push(info);
    return info;
  }

  /** A fresh, owned output buffer (contents undefined unless `zero`). */
  alloc(shape: number[], dtype: tf.DataType = 'float32', zero = false): Info {
    const out = this.backend.makeOutput(shape, dtype) as Info;
    if (zero) this.zero(out);
    this.owned.push(out);
    return out;
  }

  /** Set every element of `info` to zero: see `zeroHeap`. */
  zero(info: Info): void {
    zeroHeap(this.backend, info);
  }

  /**
   * A typed view of `info` on the wasm heap. Re-fetch after any allocation: growing the heap
   * detaches earlier views.
   */
  heap(info: Info): Float32Array | Int32Array | Uint8Array {
    return this.backend.typedArrayFromHeap(info as any);
  }

  f32(info: Info): Float32Array {
    if (info.dtype !== 'float32')
      throw new Error(`@convkit/backend: expected float32, got ${info.dtype}`);
    return this.backend.typedArrayFromHeap(info as any) as Float32Array;
  }

  transpose(x: Info, perm: number[]): Info {
    const outShape = perm.map((p) => x.shape[p]);
    // A permutation that keeps the order of the non-unit axes moves no data: a view.
    const moved = perm.filter((p) => x.shape[p] !== 1);
    let inOrder = true;
    for (let i = 1; i < moved.length; i++) if (moved[i] < moved[i - 1]) inOrder = false;
    if (inOrder) return view(x, outShape);
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * Zero-insert along H and W of an NHWC tensor: out[n, p*sh, q*sw, c] = x[n, p, q, c], zeros
   * elsewhere. Shape [N, H*sh, W*sw, C] (the trailing sh-1 rows and sw-1 columns are zeros).
   */
  dilateSpatial(x: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape;
    const padded = this.run(
      'PadV2',
      { x: view(x, [n * h, 1, w, 1, c]) },
      {
        paddings: [
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    return view(padded, [n, h * sh, w * sw, c]);
  }

  /**
   * Apply spatial pads to an NHWC tensor where they are negative (a crop), returning the
   * tensor and the pads that remain (all >= 0), which a convolution applies for free.
   */
  cropNegative(x: Info, pads: Pads): { x: Info; pads: Pads } {
    const { top, bottom, left, right } = pads;
    if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, pads };
    const [n, h, w, c] = x.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    const oh = Math.max(0, h - t - Math.max(0, -bottom));
    const ow = Math.max(0, w - l - Math.max(0, -right));
    const out = this.alloc([n, oh, ow, c], x.dtype);
    const src = this.heap(x);
    const dst = this.heap(out);
    const row = ow * c;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        const s = ((b * h + i + t) * w + l) * c;
        dst.set(src.subarray(s, s + row), (b * oh + i) * row);
      }
    }
    return {
      x: out,
      pads: {
        top: Math.max(0, top),
        bottom: Math.max(0, bottom),
        left: Math.max(0, left),
        right: Math.max(0, right),
      },
    };
  }

  /** The wasm `Conv2D` (NHWC x HWIO; convkit's direct or XNNPACK's) with explicit, non-negative pads. */
  conv2d(
    x: Info,
    filter: Info,
    strides: [number, number],
    dilations: [number, number],
    pads: Pads,
  ): Info {
    return this.run('Conv2D', { x, filter }, convAttrs(strides, dilations, pads));
  }

  /** XNNPACK depthwise convolution (NHWC x [kh, kw, C, M]) with explicit, non-negative pads. */
  depthwiseConv2d(
    x: Info,
    filter: Info,
    strides: [number, number],
    dilations: [number, number],
    pads: Pads,
  ): Info {
    return this.run('DepthwiseConv2dNative', { x, filter }, convAttrs(strides, dilations, pads));
  }

  /** Free an owned intermediate now (large temporaries inside a loop). */
  free(info: Info): void {
    const i = this.owned.indexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    this.backend.disposeData(info.dataId);
  }

  /** Remove `info` from the scope so it survives dispose (the kernel's result). */
  keep(info: Info): Info {
    const i = this.owned.indexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  /** Keep the owned buffer `dataId` (the result may be a view of it); false if not owned. */
  keepBuffer(dataId: tf.DataId): boolean {
    const i = this.owned.findIndex((info) => info.dataId === dataId);
    if (i < 0) return false;
    this.owned.splice(i, 1);
    return true;
  }

  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Run `body` in a scope; its returned info is kept, every other intermediate freed. */
export function withScope(backend: BackendWasm, body: (scope: KernelScope) => Info): Info {
  const scope = new KernelScope(backend);
  try {
    const out = body(scope);
    if (!scope.keepBuffer(out.dataId)) {
      // The result shares an input's buffer (a view): the output holds a reference too.
      backend.incRef(out.dataId);
    }
    return out;
  } finally {
    scope.dispose();
  }
}

/** NCHW <-> NHWC helpers for kernels that accept `dataFormat: 'NCHW'`. */
export const NCHW_TO_NHWC = [0, 2, 3, 1];
export const NHWC_TO_NCHW = [0, 3, 1, 2];

/** The attributes every tfjs convolution-gradient kernel carries. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | number[][];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

/** tfjs's conv geometry for an NHWC input and a conv (HWIO) or depthwise (HWCM) filter. */
export function nhwcConvInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
  depthwise: boolean,
  pad: ConvAttrs['pad'] = attrs.pad,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    pad as any,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/** Attributes of a forward XNNPACK convolution with explicit NHWC pads. */
function convAttrs(
  strides: [number, number],
  dilations: [number, number],
  pads: Pads,
): tf.NamedAttrMap {
  const pad = [
    [0, 0],
    [pads.top, pads.bottom],
    [pads.left, pads.right],
    [0, 0],
  ];
  return { strides, dilations, pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
}
