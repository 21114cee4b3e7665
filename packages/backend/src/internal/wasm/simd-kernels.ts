// biome-ignore-all format: the instruction sequences are laid out by hand, one source line per step
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type KernelCall, type KernelWorkers, startKernelWorkers } from './kernel-workers';

/**
 * A few WebAssembly SIMD loops that run directly on tfjs-backend-wasm's heap, for the work
 * that no tfjs wasm kernel does and that is too slow as a JS loop (scalar JS reads one float
 * per iteration and mispredicts the branches of a max scan):
 *
 * - `maxPoolGrad2x2`: the gradient of 2x2 / stride 2 max pooling over full windows, 4
 *   channels at a time, branch-free (first maximum per window, see max-pool-grad.ts).
 * - `col2im`: adds the columns of a GEMM back into the input gradient of a convolution
 *   (conv2d-backprop-input.ts), 4 floats at a time.
 * - `im2colT`: the transposed patch matrix of a convolution's input, for its filter
 *   gradient as one GEMM (conv2d-backprop-filter.ts), with bulk `memory.copy`/`memory.fill`.
 * - `gemmNT`: dot-product GEMM (no operand repacking): the filter and input gradients, and
 *   matrix products with a transposed right operand.
 * - `filterGradDirect`: the filter gradient without im2col, for output channels in eights.
 * - `filterGradPlanar`: the filter gradient of a 1-channel input, along x's rows.
 * - `maxPool2x2`: 2x2 / stride 2 max pooling over full windows (max-pool.ts).
 * - `convDirect`: the convolution without im2col, in blocks of 8 output channels (conv2d.ts),
 *   on a filter laid out by `packFilter` and an input padded by `padColumns`.
 * - `winogradInput` / `winogradFilter` / `winogradOutput`: the transforms of Winograd
 *   F(2x2, 3x3) (winograd.ts, whose 16 matrix products are `convDirect` on 1x1 filters);
 *   `winogradDy` / `winogradFilterGrad`: those of its filter gradient.
 * - `depthwiseFilterGrad`: the depthwise filter gradient (multiplier 1), channels in SIMD.
 * - `sumPattern` / `addPattern`: column sums of a [rows, C] matrix and a broadcast add of a
 *   [C] vector, for any C, by walking the flat data in blocks of lcm(C, 4) floats;
 *   `addPatternRelu` / `addPatternRelu6` add and then clamp (fused.ts).
 *
 * The module is assembled here, instruction by instruction (no binary blob; the helpers
 * below name every opcode), and instantiated once per wasm memory, importing tfjs's own
 * `WebAssembly.Memory` (exported by its Emscripten module as `asm.memory`), so pointers are
 * the heap offsets tfjs already uses and nothing is copied; the threaded build's memory is
 * shared, and the module is then assembled with a shared memory import. When that is
 * impossible (no SIMD, a changed Emscripten layout) `simdKernels` returns undefined and every
 * caller falls back to its JS loop.
 */
/**
 * A Winograd transform between an image [N, oh, ow, K] (rows `rowBytes` apart) and 16 planes
 * of tiles (`planeBytes` apart, a tile's K values `kBytes` apart), tiles [t0, t1) of
 * `tilesPerImage` a image in rows of `tilesW`: `winogradDy` reads the image, `winogradOutput`
 * writes it.
 */
type TileTransform = (
  from: number,
  to: number,
  kBytes: number,
  tilesPerImage: number,
  tilesW: number,
  oh: number,
  ow: number,
  rowBytes: number,
  planeBytes: number,
  t0: number,
  t1: number,
) => void;

export interface SimdKernels {
  /**
   * Writes every tap of the [0, fullOh) x [0, fullOw) windows of images [0, n): the window's
   * dy at its first maximum, 0 elsewhere. Stores the i32 1 at `nanFlag` when a window holds
   * NaN (the caller then redoes the work in JS); leaves it alone otherwise.
   */
  maxPoolGrad2x2(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fullOh: number,
    fullOw: number,
    nanFlag: number,
  ): void;
  /**
   * 2x2 / stride 2 max pooling over full windows, output rows [row0, row1) of the flattened
   * N*Oh: y[R, q, c] = max of x's 4 taps, 4 channels per step (C >= 4; the last step overlaps
   * the one before when C % 4 != 0). f32x4.max: a NaN in the window gives NaN, as PyTorch.
   */
  maxPool2x2(x: number, y: number, h: number, w: number, c: number, oh: number, ow: number, row0: number, row1: number): void;
  col2im(
    cols: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  /**
   * Transposed im2col of xT ([C, N, H, W]) for images [n0, n0 + count): row (a, e, c) of the
   * output ([kh*kw*C, count*Oh*Ow]) holds xpad[n, p*sh + a*dh - top, q*sw + e*dw - left, c].
   */
  im2colT(
    xT: number,
    out: number,
    c: number,
    n: number,
    n0: number,
    count: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
  ): void;
  /**
   * C[m, n] (+)= sum_k A[m, k] * Bt[n, k] for row-major A [M, K], Bt [N, >= K] (row stride
   * ldb floats), C [M, N]: dot products 4 rows x 2 columns at a time (edge blocks recompute the
   * last row / column and store only their own entries), no packing. `accumulate` != 0 adds
   * to C.
   */
  gemmNT(a: number, bt: number, c: number, m: number, n: number, k: number, ldb: number, accumulate: number): void;
  /**
   * Direct filter gradient (no im2col), for Co % 8 == 0: for channels [c0, c1) (in blocks
   * of 4, then one block of the 1 to 3 left), out[a, e, c, o] += sum over (n, p, q) of
   * x[n, p*sh + a*dh - top, q*sw + e*dw - left, c] * dy[n, p, q, o], with x, dy NHWC and out
   * HWIO. Each output row (n, p) is visited once a call; its x rows and dy row stay in L1
   * while every tap and 4 x 8 block of out takes its sum over q (4 broadcast x values times 2
   * vectors of dy).
   */
  filterGradDirect(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
    c0: number,
    c1: number,
  ): void;
  /**
   * Filter gradient of a 1-channel input, stride and dilation 1, for images [n0, n0 + m):
   * lanes[((a*kw + e)*Co + o)*4 + l] = sum over (b, p, q = 4t + l) of
   * xp[b, p + a - top, q + e] * dyt[o, (b*Oh + p)*ow4 + q], with xp the input as [N, hx, wp]
   * rows already padded on the left and right (wp >= ow4 + kw - 1; rows outside [0, hx)
   * count as zeros) and dyt dy transposed to [Co, npix] with rows of ow4 (a multiple of 4)
   * pixels, zeros past Ow. The caller adds the 4 lanes.
   */
  filterGradPlanar(
    xp: number,
    dyt: number,
    lanes: number,
    n0: number,
    m: number,
    hx: number,
    wp: number,
    oh: number,
    ow4: number,
    co: number,
    kh: number,
    kw: number,
    top: number,
    npix: number,
  ): void;
  /**
   * Direct convolution (any Ow), output rows [row0, row1) of the flattened N*Oh and
   * output channels [ob0, ob1) (multiples of 8; ob1 up to Co rounded up to 8, the last
   * block storing only its Co % 8 outputs):
   * y[R = b*Oh + p, q, o] = sum over (a, e, c) of
   * x[b, p*sh + a*dh - top, q*sw + e*dw, c] * w[a, e, c, o], with x NHWC of width `wp` already
   * padded on the left and right (rows outside [0, H) count as zeros), w HWIO and y NHWC.
   * The taps of filter row a run as `tapCols` runs of `tapLen` floats, `eStep` bytes apart in
   * x (dw = 1: one run of kw*Ci; else kw runs of Ci, eStep = 4*dw*Ci). `packed`: the HWIO
   * filter as `packFilter` lays it out.
   */
  convDirect(
    x: number,
    packed: number,
    y: number,
    h: number,
    wp: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    kh: number,
    sh: number,
    sw: number,
    dh: number,
    top: number,
    tapCols: number,
    tapLen: number,
    eStep: number,
    row0: number,
    row1: number,
    ob0: number,
    ob1: number,
  ): void;
  /** The filter as `convDirect` reads it: see simd-kernels.ts's `packFilter`. */
  packFilter(w: number, dst: number, taps: number, co: number, t0: number, t1: number): void;
  /** dst = `rows` rows of `left` zero bytes, src's next `rowBytes` bytes, `right` zero bytes. */
  padColumns(src: number, dst: number, rows: number, rowBytes: number, left: number, right: number): void;
  /** `bytes` zero bytes from dst: a bulk `memory.fill`. */
  zeroBytes(dst: number, bytes: number): void;
  /**
   * Winograd F(2x2, 3x3) input transform (winograd.ts) of tiles [t0, t1): tile t's 4x4 window
   * of the padded input xp (rows `rowBytes` apart, images `imageBytes`), at rows 2i.., columns
   * 2j.. (t = (b*tilesH + i)*tilesW + j, tilesPerImage = tilesH*tilesW), becomes
   * B^T d B: 16 values per channel, value k at v + k*planeBytes + t*cBytes. 4 channels a step,
   * the channels at byte offsets [o0, o1) of a pixel.
   */
  winogradInput(
    xp: number,
    v: number,
    cBytes: number,
    tilesPerImage: number,
    tilesW: number,
    rowBytes: number,
    imageBytes: number,
    planeBytes: number,
    t0: number,
    t1: number,
    o0: number,
    o1: number,
  ): void;
  /**
   * Winograd F(2x2, 3x3) transform of dy (`from`) for the filter gradient, tiles [t0, t1):
   * A dY A^T of the tile's 2x2 of dy ([N, oh, ow, K], rows `rowBytes` apart; zeros outside
   * oh x ow), value k at to + k*planeBytes + t*kBytes. 4 channels a step.
   */
  winogradDy: TileTransform;
  /**
   * The filter gradient from its 16 Winograd planes, input channels [c0, c1): dW[a, e, c, k] =
   * (G^T m G)[a][e] of the values k at m + k*planeBytes + (c*K + k)*4; dW HWIO [3, 3, C, K].
   */
  winogradFilterGrad(m: number, dw: number, c: number, kBytes: number, planeBytes: number, c0: number, c1: number): void;
  /**
   * Winograd F(2x2, 3x3) output transform of tiles [t0, t1): A^T m A of the 16 products m at
   * from + k*planeBytes + t*kBytes, stored as the tile's 2x2 outputs of y (`to`, [N, oh, ow,
   * K], rows `rowBytes` apart), those inside oh x ow. 4 channels a step.
   */
  winogradOutput: TileTransform;
  /**
   * Winograd F(2x2, 3x3) filter transform of input channels [c0, c1) of a [3, 3, C, K] filter
   * (K % 8 == 0): G g G^T, value k as `convDirect`'s packed [C, K] filter at u + k*planeBytes
   * (block of 8 outputs ob/8 at 32*C*(ob/8) bytes, channel c's 8 at 32*c within it).
   */
  winogradFilter(w: number, u: number, c: number, kBytes: number, planeBytes: number, c0: number, c1: number): void;
  /**
   * Winograd's matrix products, planes [k0, k1) and outputs [ob0, ob1) (multiples of 8):
   * m[k][t, o] = sum over c of v[k][t, c] * u[k][c, o] for tiles t < `tiles` (a multiple of 4),
   * plane k of v at v + k*vPlane ([tiles, C]), of u at u + 4*k*C*K (`winogradFilter`'s packed
   * [C, K]) and of m at m + k*mPlane ([tiles, K]). Each sum starts at zero and adds c in order,
   * as `convDirect` on a 1x1 filter, with less work around each block of 4 tiles.
   */
  winogradProducts(
    v: number,
    vPlane: number,
    u: number,
    m: number,
    mPlane: number,
    tiles: number,
    c: number,
    k: number,
    k0: number,
    k1: number,
    ob0: number,
    ob1: number,
  ): void;
  /** dx[i] = dy[i] * step(x[i]) for i < count (a multiple of 4): see relu.ts. */
  reluGrad(dy: number, x: number, dx: number, count: number): void;
  /**
   * y = max(x, 0) over `count` floats (a multiple of 4) by f32x4.max, which, as tfjs cpu's
   * Math.max(0, x), gives NaN for NaN and +0 for -0.
   */
  relu(x: number, y: number, count: number): void;
  /**
   * Depthwise filter gradient, channel multiplier 1: acc[(a*kw + e)*C + c] += sum over
   * (n, p, q) of x[n, p*sh + a*dh - top, q*sw + e*dw - left, c] * dy[n, p, q, c], 4 channels
   * per step (acc must start at zero).
   */
  depthwiseFilterGrad(
    x: number,
    dy: number,
    acc: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    top: number,
    left: number,
  ): void;
  /** acc[j] += x[i + j] for i in [0, total) step period, j in [0, period); period % 4 == 0. */
  sumPattern(x: number, acc: number, total: number, period: number): void;
  /** out[i + j] = x[i + j] + pattern[j], same walk. */
  addPattern(x: number, pattern: number, out: number, total: number, period: number): void;
  /** out[i + j] = max(x[i + j] + pattern[j], 0) (NaN stays NaN), same walk: bias and ReLU. */
  addPatternRelu(x: number, pattern: number, out: number, total: number, period: number): void;
  /** out[i + j] = min(max(x[i + j] + pattern[j], 0), 6), same walk: bias and ReLU6. */
  addPatternRelu6(x: number, pattern: number, out: number, total: number, period: number): void;
  /** dst[c * ldd + r] = src[r * cols + c]: a 2-D transpose into rows of stride ldd floats. */
  transpose2d(src: number, dst: number, rows: number, cols: number, ldd: number): void;
  /** Batch norm, channels last, walked as sumPattern (see batchNormKernels). */
  bnSquaredDeviations(x: number, mean: number, acc: number, total: number, period: number): void;
  bnAffine(x: number, scale: number, shift: number, y: number, total: number, period: number): void;
  bnGradientSums(
    dy: number,
    x: number,
    mean: number,
    accDy: number,
    accDot: number,
    total: number,
    period: number,
  ): void;
  bnInputGradient(
    dy: number,
    x: number,
    mean: number,
    k: number,
    meanDy: number,
    scale: number,
    dx: number,
    total: number,
    period: number,
  ): void;
}

// --- a minimal WebAssembly binary writer -------------------------------------------------

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

type Code = number[];
const simd = (op: number): Code => [0xfd, ...uleb(op)];
const memarg = (offset = 0): Code => [0x00, ...uleb(offset)]; // align hint 1 byte: always valid

/** Instruction helpers (a tiny subset of the MVP + SIMD opcodes). */
const op = {
  get: (i: number): Code => [0x20, ...uleb(i)],
  set: (i: number): Code => [0x21, ...uleb(i)],
  tee: (i: number): Code => [0x22, ...uleb(i)],
  i32: (v: number): Code => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  shrU: [0x76],
  ltS: [0x48],
  ne32: [0x47],
  eqz: [0x45],
  gtS: [0x4a],
  and32: [0x71],
  geS: [0x4e],
  geU: [0x4f],
  leS: [0x4c],
  select: [0x1b],
  block: (...body: Code[]): Code => [0x02, 0x40, ...body.flat(), 0x0b],
  loop: (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  divS: [0x6d],
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00], // memory.copy [dst, src, bytes]
  memoryFill: [0xfc, 0x0b, 0x00], // memory.fill [dst, byte, bytes]
  f32Load: [0x2a, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  i32Store: [0x36, 0x02, 0x00],
  f32StoreAt: (offset: number): Code => [0x38, 0x02, ...uleb(offset)],
  f32Add: [0x92],
  f32Const: (v: number): Code => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  load: (offset = 0): Code => [...simd(0x00), ...memarg(offset)],
  store: (offset = 0): Code => [...simd(0x0b), ...memarg(offset)],
  splat: simd(0x13), // f32x4.splat
  loadSplat: (offset = 0): Code => [...simd(0x09), ...memarg(offset)], // v128.load32_splat
  eq: simd(0x41), // f32x4.eq
  ne: simd(0x42), // f32x4.ne
  gt: simd(0x44), // f32x4.gt
  and: simd(0x4e), // v128.and
  andnot: simd(0x4f), // v128.andnot: a & ~b
  or: simd(0x50), // v128.or
  anyTrue: simd(0x53), // v128.any_true
  fadd: simd(0xe4), // f32x4.add
  fmax: simd(0xe9), // f32x4.max (NaN-propagating)
  fmin: simd(0xe8), // f32x4.min (NaN-propagating)
  fmul: simd(0xe6), // f32x4.mul
  fsub: simd(0xe5), // f32x4.sub
  fneg: simd(0xe1), // f32x4.neg
  /** i8x16.shuffle picking f32 lanes (0-3: the first operand, 4-7: the second). */
  shuffle: (lanes: number[]): Code => [...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  relaxedMadd: simd(0x105), // f32x4.relaxed_madd [a, b, c] -> a*b + c (relaxed SIMD)
  lane: (i: number): Code => [...simd(0x1f), i], // f32x4.extract_lane
  f32Mul: [0x94],
};

/** `for (i = start; i < end; i += step) body` as block/loop; `depth` of break/continue: 1/0. */
function forLoop(i: number, start: Code, end: Code, step: number, body: Code[]): Code {
  return [
    ...start,
    ...op.set(i),
    ...op.block(
      op.loop(
        [...op.get(i), ...end, ...op.geS, ...op.brIf(1)],
        ...body,
        [...op.get(i), ...op.i32(step), ...op.add, ...op.set(i)],
        op.br(0),
      ),
    ),
  ];
}

interface FunctionDef {
  name: string;
  params: number;
  results: number[];
  locals: { i32?: number; f32?: number; v128?: number };
  body: Code;
}

/**
 * The memory import: tfjs's plain build has an unshared memory with no maximum; its threaded
 * build a shared one, whose import must be declared shared and bounded (flags 0x03; 65536
 * pages, wasm32's limit, admits any maximum tfjs chose).
 */
function memoryImport(shared: boolean): number[] {
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  return [...name('env'), ...name('memory'), 0x02, ...limits];
}

function assemble(functions: FunctionDef[], shared: boolean): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), ...vec(f.results.map((r) => [r]))]);
  const imports = [memoryImport(shared)];
  const codes = functions.map((f) => {
    const locals: number[][] = [];
    if (f.locals.i32) locals.push([...uleb(f.locals.i32), I32]);
    if (f.locals.f32) locals.push([...uleb(f.locals.f32), F32]);
    if (f.locals.v128) locals.push([...uleb(f.locals.v128), V128]);
    const body = [...vec(locals), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}

// --- the kernels ---------------------------------------------------------------------------

function maxPoolGrad2x2(): FunctionDef {
  // params
  const [x, dy, dx, n, h, w, c, oh, ow, fullOh, fullOw, nanFlag] = Array.from({ length: 12 }, (_, i) => i);
  // i32 locals
  const [b, p, q, k, cb, rowb, base, dyo, off, a0, d0] = Array.from({ length: 11 }, (_, i) => 12 + i);
  // v128 locals
  const [v0, v1, v2, v3, m, valid, g, e, taken, nan] = Array.from({ length: 10 }, (_, i) => 23 + i);
  const group: Code[] = [
    // off = 4 * min(k, c - 4): the last group overlaps the previous one when c % 4 != 0
    [...op.get(k), ...op.get(c), ...op.i32(4), ...op.sub, ...op.get(k), ...op.get(c), ...op.i32(4), ...op.sub, ...op.ltS, ...op.select],
    [...op.i32(2), ...op.shl, ...op.set(off)],
    [...op.get(x), ...op.get(base), ...op.add, ...op.get(off), ...op.add, ...op.set(a0)],
    [...op.get(dx), ...op.get(base), ...op.add, ...op.get(off), ...op.add, ...op.set(d0)],
    [...op.get(a0), ...op.load(), ...op.set(v0)],
    [...op.get(a0), ...op.get(cb), ...op.add, ...op.load(), ...op.set(v1)],
    [...op.get(a0), ...op.get(rowb), ...op.add, ...op.tee(a0), ...op.load(), ...op.set(v2)],
    [...op.get(a0), ...op.get(cb), ...op.add, ...op.load(), ...op.set(v3)],
    [...op.get(v0), ...op.get(v1), ...op.fmax, ...op.get(v2), ...op.get(v3), ...op.fmax, ...op.fmax, ...op.set(m)],
    [...op.get(nan), ...op.get(m), ...op.get(m), ...op.ne, ...op.or, ...op.set(nan)],
    // valid: the maximum is above -Infinity (all -Infinity or NaN windows pass nothing)
    [...op.get(m), ...op.f32Const(Number.NEGATIVE_INFINITY), ...op.splat, ...op.gt, ...op.set(valid)],
    [...op.get(dy), ...op.get(dyo), ...op.add, ...op.get(off), ...op.add, ...op.load(), ...op.set(g)],
    // tap 0
    [...op.get(v0), ...op.get(m), ...op.eq, ...op.get(valid), ...op.and, ...op.tee(e), ...op.set(taken)],
    [...op.get(d0), ...op.get(g), ...op.get(e), ...op.and, ...op.store()],
    // tap 1
    [...op.get(v1), ...op.get(m), ...op.eq, ...op.get(valid), ...op.and, ...op.get(taken), ...op.andnot, ...op.set(e)],
    [...op.get(taken), ...op.get(e), ...op.or, ...op.set(taken)],
    [...op.get(d0), ...op.get(cb), ...op.add, ...op.get(g), ...op.get(e), ...op.and, ...op.store()],
    // tap 2
    [...op.get(v2), ...op.get(m), ...op.eq, ...op.get(valid), ...op.and, ...op.get(taken), ...op.andnot, ...op.set(e)],
    [...op.get(taken), ...op.get(e), ...op.or, ...op.set(taken)],
    [...op.get(d0), ...op.get(rowb), ...op.add, ...op.tee(d0), ...op.get(g), ...op.get(e), ...op.and, ...op.store()],
    // tap 3
    [...op.get(v3), ...op.get(m), ...op.eq, ...op.get(valid), ...op.and, ...op.get(taken), ...op.andnot, ...op.set(e)],
    [...op.get(d0), ...op.get(cb), ...op.add, ...op.get(g), ...op.get(e), ...op.and, ...op.store()],
  ];
  const body: Code = [
    ...op.get(c), ...op.i32(2), ...op.shl, ...op.set(cb),
    ...op.get(w), ...op.get(cb), ...op.mul, ...op.set(rowb),
    ...forLoop(b, op.i32(0), op.get(n), 1, [
      forLoop(p, op.i32(0), op.get(fullOh), 1, [
        forLoop(q, op.i32(0), op.get(fullOw), 1, [
          // base = ((b*h + 2p)*w + 2q) * c * 4; dyo = ((b*oh + p)*ow + q) * c * 4
          [...op.get(b), ...op.get(h), ...op.mul, ...op.get(p), ...op.get(p), ...op.add, ...op.add, ...op.get(w), ...op.mul,
            ...op.get(q), ...op.get(q), ...op.add, ...op.add, ...op.get(cb), ...op.mul, ...op.set(base)],
          [...op.get(b), ...op.get(oh), ...op.mul, ...op.get(p), ...op.add, ...op.get(ow), ...op.mul, ...op.get(q), ...op.add,
            ...op.get(cb), ...op.mul, ...op.set(dyo)],
          forLoop(k, op.i32(0), op.get(c), 4, group),
        ]),
      ]),
    ]),
    ...op.block(
      [...op.get(nan), ...op.anyTrue, ...op.eqz, ...op.brIf(0)],
      [...op.get(nanFlag), ...op.i32(1), ...op.i32Store],
    ),
  ];
  return { name: 'maxPoolGrad2x2', params: 12, results: [], locals: { i32: 11, v128: 10 }, body };
}

/** `SimdKernels.maxPool2x2`. */
function maxPool2x2(): FunctionDef {
  const [x, y, h, w, c, oh, ow, row0, row1] = Array.from({ length: 9 }, (_, i) => i);
  const [R, b, src, dst, q, k, off, cb, rowb, a0] = Array.from({ length: 10 }, (_, i) => 9 + i);
  const body: Code = [
    ...op.get(c), ...op.i32(2), ...op.shl, ...op.set(cb),
    ...op.get(w), ...op.get(cb), ...op.mul, ...op.set(rowb),
    ...forLoop(R, op.get(row0), op.get(row1), 1, [
      // src = x + rowb*(b*h + 2p), dst = y + 4*R*Ow*C, with b = R / Oh, p = R - b*Oh
      [...op.get(R), ...op.get(oh), ...op.divS, ...op.tee(b), ...op.get(h), ...op.mul, ...op.get(R), ...op.get(b), ...op.get(oh),
        ...op.mul, ...op.sub, ...op.i32(1), ...op.shl, ...op.add, ...op.get(rowb), ...op.mul, ...op.get(x), ...op.add, ...op.set(src)],
      [...op.get(R), ...op.get(ow), ...op.mul, ...op.get(cb), ...op.mul, ...op.get(y), ...op.add, ...op.set(dst)],
      forLoop(q, op.i32(0), op.get(ow), 1, [
        forLoop(k, op.i32(0), op.get(c), 4, [
          // off = 4 * min(k, C - 4)
          [...op.get(k), ...op.get(c), ...op.i32(4), ...op.sub, ...op.get(k), ...op.get(c), ...op.i32(4), ...op.sub, ...op.ltS,
            ...op.select, ...op.i32(2), ...op.shl, ...op.set(off)],
          [...op.get(src), ...op.get(off), ...op.add, ...op.set(a0)],
          [...op.get(dst), ...op.get(off), ...op.add,
            ...op.get(a0), ...op.load(), ...op.get(a0), ...op.get(cb), ...op.add, ...op.load(), ...op.fmax,
            ...op.get(a0), ...op.get(rowb), ...op.add, ...op.tee(a0), ...op.load(), ...op.get(a0), ...op.get(cb), ...op.add, ...op.load(),
            ...op.fmax, ...op.fmax, ...op.store()],
        ]),
        [...op.get(src), ...op.get(cb), ...op.i32(1), ...op.shl, ...op.add, ...op.set(src)],
        [...op.get(dst), ...op.get(cb), ...op.add, ...op.set(dst)],
      ]),
    ]),
  ];
  return { name: 'maxPool2x2', params: 9, results: [], locals: { i32: 10 }, body };
}

function col2im(): FunctionDef {
  const [cols, dx, n, h, w, ci, oh, ow, kh, kw, sh, sw, top, left] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [b, p, q, a, r, c0, e0, e1, colBase, s0, d0, len, j, kkc] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
  const row: Code[] = [
    // r = p*sh + a - top; skip rows outside the input
    [...op.get(p), ...op.get(sh), ...op.mul, ...op.get(a), ...op.add, ...op.get(top), ...op.sub, ...op.set(r)],
    op.block(
      [...op.get(r), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
      [...op.get(r), ...op.get(h), ...op.geS, ...op.brIf(0)],
      // d0 = 4*(((b*h + r)*w + c0 + e0)*ci); s0 = colBase + 4*((a*kw + e0)*ci)
      [...op.get(b), ...op.get(h), ...op.mul, ...op.get(r), ...op.add, ...op.get(w), ...op.mul, ...op.get(c0), ...op.add,
        ...op.get(e0), ...op.add, ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl, ...op.get(dx), ...op.add, ...op.set(d0)],
      [...op.get(a), ...op.get(kw), ...op.mul, ...op.get(e0), ...op.add, ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl,
        ...op.get(colBase), ...op.add, ...op.set(s0)],
      // vector part: j in [0, len - 3) step 4
      forLoop(j, op.i32(0), [...op.get(len), ...op.i32(3), ...op.sub], 4, [
        [...op.get(d0), ...op.get(d0), ...op.load(), ...op.get(s0), ...op.load(), ...op.fadd, ...op.store()],
        [...op.get(d0), ...op.i32(16), ...op.add, ...op.set(d0), ...op.get(s0), ...op.i32(16), ...op.add, ...op.set(s0)],
      ]),
      // scalar tail: j continues from where the vector loop stopped
      [...op.get(j), ...op.set(j)],
      op.block(
        op.loop(
          [...op.get(j), ...op.get(len), ...op.geS, ...op.brIf(1)],
          [...op.get(d0), ...op.get(d0), ...op.f32Load, ...op.get(s0), ...op.f32Load, ...op.f32Add, ...op.f32Store],
          [...op.get(d0), ...op.i32(4), ...op.add, ...op.set(d0), ...op.get(s0), ...op.i32(4), ...op.add, ...op.set(s0)],
          [...op.get(j), ...op.i32(1), ...op.add, ...op.set(j)],
          op.br(0),
        ),
      ),
    ),
  ];
  const body: Code = [
    ...op.get(kh), ...op.get(kw), ...op.mul, ...op.get(ci), ...op.mul, ...op.set(kkc),
    ...forLoop(b, op.i32(0), op.get(n), 1, [
      forLoop(p, op.i32(0), op.get(oh), 1, [
        forLoop(q, op.i32(0), op.get(ow), 1, [
          // colBase = cols + 4*((b*oh + p)*ow + q)*kkc
          [...op.get(b), ...op.get(oh), ...op.mul, ...op.get(p), ...op.add, ...op.get(ow), ...op.mul, ...op.get(q), ...op.add,
            ...op.get(kkc), ...op.mul, ...op.i32(2), ...op.shl, ...op.get(cols), ...op.add, ...op.set(colBase)],
          // c0 = q*sw - left; e0 = max(0, -c0); e1 = min(kw, w - c0); len = (e1 - e0)*ci
          [...op.get(q), ...op.get(sw), ...op.mul, ...op.get(left), ...op.sub, ...op.set(c0)],
          [...op.i32(0), ...op.get(c0), ...op.sub, ...op.tee(e0), ...op.i32(0), ...op.get(e0), ...op.i32(0), ...op.geS, ...op.select, ...op.set(e0)],
          [...op.get(w), ...op.get(c0), ...op.sub, ...op.tee(e1), ...op.get(kw), ...op.get(e1), ...op.get(kw), ...op.leS, ...op.select, ...op.set(e1)],
          [...op.get(e1), ...op.get(e0), ...op.sub, ...op.get(ci), ...op.mul, ...op.set(len)],
          op.block(
            [...op.get(len), ...op.i32(0), ...op.leS, ...op.brIf(0)],
            forLoop(a, op.i32(0), op.get(kh), 1, row),
          ),
        ]),
      ]),
    ]),
  ];
  return { name: 'col2im', params: 14, results: [], locals: { i32: 14 }, body };
}

/**
 * The output columns [q0, q1) whose input column q*sw + cstart lies in [0, w), for filter
 * column e (cstart = e*dw - left): q0 = cstart >= 0 ? 0 : ceil(-cstart / sw), q1 =
 * floor((w-1-cstart)/sw) + 1, both clamped to [0, ow] with q1 >= q0. Arguments are locals.
 */
function validColumns(l: Record<'e' | 'dw' | 'left' | 'sw' | 'w' | 'ow' | 'cstart' | 'q0' | 'q1', number>): Code[] {
  const { e, dw, left, sw, w, ow, cstart, q0, q1 } = l;
  return [
    [...op.get(e), ...op.get(dw), ...op.mul, ...op.get(left), ...op.sub, ...op.set(cstart)],
    [...op.get(sw), ...op.i32(1), ...op.sub, ...op.get(cstart), ...op.sub, ...op.get(sw), ...op.divS, ...op.i32(0),
      ...op.get(cstart), ...op.i32(0), ...op.ltS, ...op.select, ...op.set(q0)],
    [...op.get(q0), ...op.get(ow), ...op.get(q0), ...op.get(ow), ...op.leS, ...op.select, ...op.set(q0)],
    [...op.get(w), ...op.i32(1), ...op.sub, ...op.get(cstart), ...op.sub, ...op.tee(q1), ...op.get(sw), ...op.divS, ...op.i32(1), ...op.add,
      ...op.i32(0), ...op.get(q1), ...op.i32(0), ...op.geS, ...op.select, ...op.set(q1)],
    [...op.get(q1), ...op.get(ow), ...op.get(q1), ...op.get(ow), ...op.leS, ...op.select, ...op.set(q1)],
    [...op.get(q1), ...op.get(q0), ...op.get(q1), ...op.get(q0), ...op.geS, ...op.select, ...op.set(q1)],
  ];
}

function im2colT(): FunctionDef {
  const [xT, out, c, n, n0, count, h, w, oh, ow, kh, kw, sh, sw, dh, dw, top, left] = Array.from({ length: 18 }, (_, i) => i);
  const [a, e, k, b, p, q, r, cstart, q0, q1, src, dst, q1v] = Array.from({ length: 13 }, (_, i) => 18 + i);
  const zero = 31; // v128 local, never written: all zeros
  /** out[dst + 4*i] = 0 for i in [from, to): 4 at a time, then one at a time. */
  const zeros = (from: Code, to: Code): Code => [
    ...from, ...op.set(q),
    ...op.block(op.loop(
      [...op.get(q), ...op.i32(4), ...op.add, ...to, ...op.gtS, ...op.brIf(1)],
      [...op.get(dst), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add, ...op.get(zero), ...op.store()],
      [...op.get(q), ...op.i32(4), ...op.add, ...op.set(q)],
      op.br(0),
    )),
    ...op.block(op.loop(
      [...op.get(q), ...to, ...op.geS, ...op.brIf(1)],
      [...op.get(dst), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add, ...op.f32Const(0), ...op.f32Store],
      [...op.get(q), ...op.i32(1), ...op.add, ...op.set(q)],
      op.br(0),
    )),
  ];
  const row: Code[] = [
    [...op.get(p), ...op.get(sh), ...op.mul, ...op.get(a), ...op.get(dh), ...op.mul, ...op.add, ...op.get(top), ...op.sub, ...op.set(r)],
    op.block(
      op.block(
        // rows outside the input: all zeros
        [...op.get(r), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
        [...op.get(r), ...op.get(h), ...op.geS, ...op.brIf(0)],
        zeros(op.i32(0), op.get(q0)),
        // src = xT + 4*(((k*n + n0 + b)*h + r)*w + cstart)
        [...op.get(k), ...op.get(n), ...op.mul, ...op.get(n0), ...op.add, ...op.get(b), ...op.add, ...op.get(h), ...op.mul,
          ...op.get(r), ...op.add, ...op.get(w), ...op.mul, ...op.get(cstart), ...op.add, ...op.i32(2), ...op.shl, ...op.get(xT), ...op.add, ...op.set(src)],
        op.block(
          op.block(
            [...op.get(sw), ...op.i32(1), ...op.ne32, ...op.brIf(0)],
            // stride 1: a contiguous run, 4 floats at a time, then the tail
            [...op.get(q0), ...op.set(q)],
            op.block(op.loop(
              [...op.get(q), ...op.get(q1v), ...op.geS, ...op.brIf(1)],
              [...op.get(dst), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add,
                ...op.get(src), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add, ...op.load(), ...op.store()],
              [...op.get(q), ...op.i32(4), ...op.add, ...op.set(q)],
              op.br(0),
            )),
            forLoop(q, op.get(q), op.get(q1), 1, [
              [...op.get(dst), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add,
                ...op.get(src), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add, ...op.f32Load, ...op.f32Store],
            ]),
            op.br(1),
          ),
          forLoop(q, op.get(q0), op.get(q1), 1, [
            [...op.get(dst), ...op.get(q), ...op.i32(2), ...op.shl, ...op.add,
              ...op.get(src), ...op.get(q), ...op.get(sw), ...op.mul, ...op.i32(2), ...op.shl, ...op.add, ...op.f32Load, ...op.f32Store],
          ]),
        ),
        zeros(op.get(q1), op.get(ow)),
        op.br(1),
      ),
      zeros(op.i32(0), op.get(ow)),
    ),
    [...op.get(dst), ...op.get(ow), ...op.i32(2), ...op.shl, ...op.add, ...op.set(dst)],
  ];
  const body: Code = [
    ...op.get(out), ...op.set(dst),
    ...forLoop(a, op.i32(0), op.get(kh), 1, [
      forLoop(e, op.i32(0), op.get(kw), 1, [
        ...validColumns({ e, dw, left, sw, w, ow, cstart, q0, q1 }),
        // q1v: end of the 4-float steps (q0 + 4*floor((q1 - q0)/4))
        [...op.get(q1), ...op.get(q1), ...op.get(q0), ...op.sub, ...op.i32(3), ...op.and32, ...op.sub, ...op.set(q1v)],
        forLoop(k, op.i32(0), op.get(c), 1, [
          forLoop(b, op.i32(0), op.get(count), 1, [forLoop(p, op.i32(0), op.get(oh), 1, row)]),
        ]),
      ]),
    ]),
  ];
  return { name: 'im2colT', params: 18, results: [], locals: { i32: 13, v128: 1 }, body };
}

/** `fma`: the inner product step as relaxed-SIMD fused multiply-add instead of mul + add. */
function gemmNT(fma: boolean): FunctionDef {
  const [A, B, C, M, N, K, ldb, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [m0, n0, o, k4b, kb] = [8, 9, 10, 11, 12];
  const rowA = [13, 14, 15, 16]; // byte address of the 4 rows of A
  const rowB = [17, 18]; // and of the 2 rows of Bt
  const mi = [19, 20, 21, 22]; // clamped row indices
  const nj = [23, 24]; // clamped column indices
  const t = 25; // f32 local
  const acc = [26, 27, 28, 29, 30, 31, 32, 33]; // v128: acc[2*i + j]
  const av = [34, 35, 36, 37];
  const bv = [38, 39];
  const clamp = (start: number, i: number, limit: number): Code => [
    // min(start + i, limit - 1)
    ...op.get(start), ...op.i32(i), ...op.add, ...op.get(limit), ...op.i32(1), ...op.sub,
    ...op.get(start), ...op.i32(i), ...op.add, ...op.get(limit), ...op.ltS, ...op.select,
  ];
  const perPair: Code[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 2; j++) {
      const a = acc[2 * i + j];
      perPair.push(
        [...op.get(a), ...op.lane(0), ...op.get(a), ...op.lane(1), ...op.f32Add, ...op.get(a), ...op.lane(2), ...op.get(a),
          ...op.lane(3), ...op.f32Add, ...op.f32Add, ...op.set(t)],
        forLoop(o, op.get(k4b), op.get(kb), 4, [
          [...op.get(t), ...op.get(rowA[i]), ...op.get(o), ...op.add, ...op.f32Load, ...op.get(rowB[j]), ...op.get(o), ...op.add,
            ...op.f32Load, ...op.f32Mul, ...op.f32Add, ...op.set(t)],
        ]),
        op.block(
          // edge blocks: only the unclamped (row, column) pairs store
          [...op.get(m0), ...op.i32(i), ...op.add, ...op.get(M), ...op.geS, ...op.brIf(0)],
          [...op.get(n0), ...op.i32(j), ...op.add, ...op.get(N), ...op.geS, ...op.brIf(0)],
          // address of C[mi, nj]; add the old value when accumulating
          [...op.get(mi[i]), ...op.get(N), ...op.mul, ...op.get(nj[j]), ...op.add, ...op.i32(2), ...op.shl, ...op.get(C), ...op.add, ...op.set(o)],
          op.block(
            [...op.get(accumulate), ...op.eqz, ...op.brIf(0)],
            [...op.get(t), ...op.get(o), ...op.f32Load, ...op.f32Add, ...op.set(t)],
          ),
          [...op.get(o), ...op.get(t), ...op.f32Store],
        ),
      );
    }
  }
  const inner: Code[] = [];
  for (let i = 0; i < 4; i++) inner.push([...op.get(rowA[i]), ...op.get(o), ...op.add, ...op.load(), ...op.set(av[i])]);
  for (let j = 0; j < 2; j++) inner.push([...op.get(rowB[j]), ...op.get(o), ...op.add, ...op.load(), ...op.set(bv[j])]);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 2; j++) {
      const a = acc[2 * i + j];
      inner.push(
        fma
          ? [...op.get(av[i]), ...op.get(bv[j]), ...op.get(a), ...op.relaxedMadd, ...op.set(a)]
          : [...op.get(a), ...op.get(av[i]), ...op.get(bv[j]), ...op.fmul, ...op.fadd, ...op.set(a)],
      );
    }
  }
  const zero = [...op.f32Const(0), ...op.splat];
  const body: Code = [
    ...op.get(K), ...op.i32(2), ...op.shl, ...op.set(kb),
    ...op.get(K), ...op.i32(-4), ...op.and32, ...op.i32(2), ...op.shl, ...op.set(k4b),
    ...forLoop(m0, op.i32(0), op.get(M), 4, [
      ...[0, 1, 2, 3].map((i) => [...clamp(m0, i, M), ...op.tee(mi[i]), ...op.get(kb), ...op.mul, ...op.get(A), ...op.add, ...op.set(rowA[i])]),
      forLoop(n0, op.i32(0), op.get(N), 2, [
        ...[0, 1].map((j) => [...clamp(n0, j, N), ...op.tee(nj[j]), ...op.get(ldb), ...op.mul, ...op.i32(2), ...op.shl, ...op.get(B), ...op.add, ...op.set(rowB[j])]),
        ...acc.map((a) => [...zero, ...op.set(a)]),
        forLoop(o, op.i32(0), op.get(k4b), 16, inner),
        ...perPair,
      ]),
    ]),
  ];
  return { name: 'gemmNT', params: 8, results: [], locals: { i32: 17, f32: 1, v128: 14 }, body };
}

/** `fma`: as gemmNT's. */
function filterGradDirect(fma: boolean): FunctionDef {
  const [x, dy, out, n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, top, left, c0, c1] = Array.from({ length: 20 }, (_, i) => i);
  const [b, p, a, e, r, dyRow, xRow, cstart, q0, q1, cb, ob, outp, xp, dp, q, xstep, ostep, xq0, tp, c4] = Array.from({ length: 21 }, (_, i) => 20 + i);
  const acc = [41, 42, 43, 44, 45, 46, 47, 48]; // v128: acc[2*i + j], channel cb + i, outputs ob + 4j..
  const [d0, d1, xs] = [49, 50, 51];
  /** Channel rows [0, rows) of the block: 4, or the 1 to 3 channels past the last multiple of 4. */
  const rowsOf = (rows: number) => Array.from({ length: rows }, (_, i) => i);
  /** acc <-> out[a, e, cb + i, ob + 4j ..]: rows of out are ostep bytes apart. */
  const moveAcc = (load: boolean, rows: number): Code[] => [
    [...op.get(outp), ...op.set(tp)],
    ...rowsOf(rows).map((i) => [
      ...[0, 1].flatMap((j) =>
        load
          ? [...op.get(tp), ...op.load(16 * j), ...op.set(acc[2 * i + j])]
          : [...op.get(tp), ...op.get(acc[2 * i + j]), ...op.store(16 * j)],
      ),
      ...op.get(tp), ...op.get(ostep), ...op.add, ...op.set(tp),
    ]),
  ];
  const step = (rows: number): Code[] => [
    [...op.get(dp), ...op.load(), ...op.set(d0), ...op.get(dp), ...op.load(16), ...op.set(d1)],
    ...rowsOf(rows).map((i) => [
      ...op.get(xp), ...op.loadSplat(4 * i), ...op.set(xs),
      ...[0, 1].flatMap((j) => {
        const s = acc[2 * i + j];
        const d = j === 0 ? d0 : d1;
        return fma
          ? [...op.get(xs), ...op.get(d), ...op.get(s), ...op.relaxedMadd, ...op.set(s)]
          : [...op.get(s), ...op.get(xs), ...op.get(d), ...op.fmul, ...op.fadd, ...op.set(s)];
      }),
    ]),
    [...op.get(xp), ...op.get(xstep), ...op.add, ...op.set(xp), ...op.get(dp), ...op.get(ostep), ...op.add, ...op.set(dp)],
  ];
  /** Every 8 outputs of channels [cb, cb + rows) at tap (a, e): sums over q in [q0, q1). */
  const channelBlock = (rows: number): Code =>
    forLoop(ob, op.i32(0), op.get(co), 8, [
      // outp = out + 4*(((a*kw + e)*Ci + cb)*Co + ob)
      [...op.get(a), ...op.get(kw), ...op.mul, ...op.get(e), ...op.add, ...op.get(ci), ...op.mul, ...op.get(cb), ...op.add,
        ...op.get(co), ...op.mul, ...op.get(ob), ...op.add, ...op.i32(2), ...op.shl, ...op.get(out), ...op.add, ...op.set(outp)],
      ...moveAcc(true, rows),
      [...op.get(cb), ...op.i32(2), ...op.shl, ...op.get(xq0), ...op.add, ...op.set(xp)],
      [...op.get(q0), ...op.get(co), ...op.mul, ...op.get(ob), ...op.add, ...op.i32(2), ...op.shl, ...op.get(dyRow), ...op.add, ...op.set(dp)],
      forLoop(q, op.get(q0), op.get(q1), 1, step(rows)),
      ...moveAcc(false, rows),
    ]);
  const tap: Code[] = [
    ...validColumns({ e, dw, left, sw, w, ow, cstart, q0, q1 }),
    op.block(
      [...op.get(q0), ...op.get(q1), ...op.geS, ...op.brIf(0)],
      // xq0 = xRow + 4*(q0*sw + cstart)*Ci
      [...op.get(q0), ...op.get(sw), ...op.mul, ...op.get(cstart), ...op.add, ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl,
        ...op.get(xRow), ...op.add, ...op.set(xq0)],
      forLoop(cb, op.get(c0), op.get(c4), 4, [channelBlock(4)]),
      // The 1 to 3 channels left: one block of that many rows (one pass over dy, not one each).
      ...[3, 2, 1].map((rows) =>
        op.block(
          [...op.get(c1), ...op.get(c4), ...op.sub, ...op.i32(rows), ...op.ne32, ...op.brIf(0)],
          [...op.get(c4), ...op.set(cb)],
          channelBlock(rows),
        ),
      ),
    ),
  ];
  const body: Code = [
    // c4 = c0 + 4*floor((c1 - c0)/4): blocks of 4 channels below, single channels from there
    ...op.get(c1), ...op.get(c0), ...op.sub, ...op.i32(-4), ...op.and32, ...op.get(c0), ...op.add, ...op.set(c4),
    ...op.get(sw), ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl, ...op.set(xstep),
    ...op.get(co), ...op.i32(2), ...op.shl, ...op.set(ostep),
    ...forLoop(b, op.i32(0), op.get(n), 1, [
      forLoop(p, op.i32(0), op.get(oh), 1, [
        // dyRow = dy + 4*((b*Oh + p)*Ow*Co)
        [...op.get(b), ...op.get(oh), ...op.mul, ...op.get(p), ...op.add, ...op.get(ow), ...op.mul, ...op.get(ostep), ...op.mul,
          ...op.get(dy), ...op.add, ...op.set(dyRow)],
        forLoop(a, op.i32(0), op.get(kh), 1, [
          [...op.get(p), ...op.get(sh), ...op.mul, ...op.get(a), ...op.get(dh), ...op.mul, ...op.add, ...op.get(top), ...op.sub, ...op.set(r)],
          op.block(
            [...op.get(r), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
            [...op.get(r), ...op.get(h), ...op.geS, ...op.brIf(0)],
            // xRow = x + 4*((b*H + r)*W*Ci)
            [...op.get(b), ...op.get(h), ...op.mul, ...op.get(r), ...op.add, ...op.get(w), ...op.mul, ...op.get(ci), ...op.mul,
              ...op.i32(2), ...op.shl, ...op.get(x), ...op.add, ...op.set(xRow)],
            forLoop(e, op.i32(0), op.get(kw), 1, tap),
          ),
        ]),
      ]),
    ]),
  ];
  return { name: 'filterGradDirect', params: 20, results: [], locals: { i32: 21, v128: 11 }, body };
}

/**
 * `SimdKernels.filterGradPlanar` (`fma`: as gemmNT's). Per filter row a, block of up to 4
 * filter columns and pair of output channels, 8 accumulators hold 4 pixels' partial sums
 * over every dy row of the images: each step loads 4 pixels of both channels' dy rows and
 * the 4 shifted runs of x (unaligned), 6 loads per 8 multiply-adds with every lane used.
 * (Blocks of 5 columns, 10 accumulators, ran 1.2 to 1.4x slower on one thread: 13 live
 * vectors and V8's scratch register leave x64 too few.) A 1-channel input leaves 3 of 4
 * broadcast lanes idle in `filterGradDirect`, and the GEMM writes and reads an im2col Kh*Kw
 * times x's size.
 */
function filterGradPlanar(fma: boolean): FunctionDef {
  const [xp, dyt, lanes, n0, m, hx, wp, oh, ow4, co, kh, kw, top, npix] = Array.from({ length: 14 }, (_, i) => i);
  const [a, e0, ne, ob, o1, b, p, p0, p1, xq, d0p, d1p, qb, qend, row, bEnd] = Array.from({ length: 16 }, (_, i) => 14 + i);
  const acc = Array.from({ length: 8 }, (_, i) => 30 + i); // v128: acc[2*e + j]
  const [xv, d0, d1] = [38, 39, 40];
  const madd = (s: number, d: number): Code =>
    fma
      ? [...op.get(xv), ...op.get(d), ...op.get(s), ...op.relaxedMadd, ...op.set(s)]
      : [...op.get(s), ...op.get(xv), ...op.get(d), ...op.fmul, ...op.fadd, ...op.set(s)];
  /** lanes address of (a, e0 + e, channel o): ((a*kw + e0 + e)*Co + o)*16 bytes. */
  const laneAt = (e: number, o: number): Code => [
    ...op.get(a), ...op.get(kw), ...op.mul, ...op.get(e0), ...op.add, ...op.i32(e), ...op.add, ...op.get(co), ...op.mul,
    ...op.get(o), ...op.add, ...op.i32(4), ...op.shl, ...op.get(lanes), ...op.add,
  ];
  /** Sums over every dy row for filter columns [e0, e0 + count), channels ob and o1. */
  const columns = (count: number): Code[] => {
    const live = acc.slice(0, 2 * count);
    const step: Code[] = [
      [...op.get(d0p), ...op.get(qb), ...op.add, ...op.load(), ...op.set(d0)],
      [...op.get(d1p), ...op.get(qb), ...op.add, ...op.load(), ...op.set(d1)],
      ...Array.from({ length: count }, (_, e) => [
        ...op.get(xq), ...op.get(qb), ...op.add, ...op.load(4 * e), ...op.set(xv),
        ...madd(acc[2 * e], d0), ...madd(acc[2 * e + 1], d1),
      ]),
    ];
    return [
      ...live.map((v) => [...op.f32Const(0), ...op.splat, ...op.set(v)]),
      forLoop(b, op.get(n0), op.get(bEnd), 1, [
        forLoop(p, op.get(p0), op.get(p1), 1, [
          // xq = xp + 4*((b*hx + p + a - top)*wp + e0); row = b*Oh + p
          [...op.get(b), ...op.get(hx), ...op.mul, ...op.get(p), ...op.add, ...op.get(a), ...op.add, ...op.get(top), ...op.sub,
            ...op.get(wp), ...op.mul, ...op.get(e0), ...op.add, ...op.i32(2), ...op.shl, ...op.get(xp), ...op.add, ...op.set(xq)],
          [...op.get(b), ...op.get(oh), ...op.mul, ...op.get(p), ...op.add, ...op.get(ow4), ...op.mul, ...op.set(row)],
          [...op.get(ob), ...op.get(npix), ...op.mul, ...op.get(row), ...op.add, ...op.i32(2), ...op.shl, ...op.get(dyt), ...op.add, ...op.set(d0p)],
          [...op.get(o1), ...op.get(npix), ...op.mul, ...op.get(row), ...op.add, ...op.i32(2), ...op.shl, ...op.get(dyt), ...op.add, ...op.set(d1p)],
          forLoop(qb, op.i32(0), op.get(qend), 16, step),
        ]),
      ]),
      // With Co odd the last pair is (Co - 1, Co - 1): both stores write the same sums.
      ...Array.from({ length: count }, (_, e) => [
        ...laneAt(e, ob), ...op.get(acc[2 * e]), ...op.store(),
        ...laneAt(e, o1), ...op.get(acc[2 * e + 1]), ...op.store(),
      ]),
    ];
  };
  const body: Code = [
    ...op.get(ow4), ...op.i32(2), ...op.shl, ...op.set(qend),
    ...op.get(n0), ...op.get(m), ...op.add, ...op.set(bEnd),
    ...forLoop(a, op.i32(0), op.get(kh), 1, [
      // dy rows p whose x row p + a - top exists: [max(0, top - a), min(Oh, hx + top - a))
      [...op.get(top), ...op.get(a), ...op.sub, ...op.i32(0), ...op.get(top), ...op.get(a), ...op.sub, ...op.i32(0), ...op.gtS,
        ...op.select, ...op.set(p0)],
      [...op.get(hx), ...op.get(top), ...op.add, ...op.get(a), ...op.sub, ...op.tee(p1), ...op.get(oh), ...op.get(p1), ...op.get(oh),
        ...op.ltS, ...op.select, ...op.set(p1)],
      forLoop(e0, op.i32(0), op.get(kw), 4, [
        // ne = min(4, kw - e0)
        [...op.get(kw), ...op.get(e0), ...op.sub, ...op.tee(ne), ...op.i32(4), ...op.get(ne), ...op.i32(4), ...op.ltS, ...op.select,
          ...op.set(ne)],
        forLoop(ob, op.i32(0), op.get(co), 2, [
          // o1 = min(ob + 1, Co - 1)
          [...op.get(ob), ...op.i32(1), ...op.add, ...op.get(co), ...op.i32(1), ...op.sub, ...op.get(ob), ...op.i32(1), ...op.add,
            ...op.get(co), ...op.ltS, ...op.select, ...op.set(o1)],
          ...[4, 3, 2, 1].map((count) =>
            op.block([...op.get(ne), ...op.i32(count), ...op.ne32, ...op.brIf(0)], ...columns(count)),
          ),
        ]),
      ]),
    ]),
  ];
  return { name: 'filterGradPlanar', params: 14, results: [], locals: { i32: 16, v128: 11 }, body };
}

/**
 * One step of a block of 8 outputs by 1 to 4 pixels (`convDirect`, `winogradProducts`): the 8
 * filter values at `w` (32 bytes) times each pixel's value at px[i] (broadcast) into
 * acc[2*i], acc[2*i + 1], then every pointer on by one channel. `fma`: as gemmNT's.
 */
function blockStep(
  fma: boolean,
  w: number,
  px: number[],
  acc: number[],
  [w0, w1, xs]: number[],
): Code[] {
  return [
    [...op.get(w), ...op.load(), ...op.set(w0), ...op.get(w), ...op.load(16), ...op.set(w1)],
    ...px.map((pi, i) => [
      ...op.get(pi), ...op.loadSplat(), ...op.set(xs),
      ...[w0, w1].flatMap((wv, k) => {
        const s = acc[2 * i + k];
        return fma
          ? [...op.get(xs), ...op.get(wv), ...op.get(s), ...op.relaxedMadd, ...op.set(s)]
          : [...op.get(s), ...op.get(xs), ...op.get(wv), ...op.fmul, ...op.fadd, ...op.set(s)];
      }),
    ]),
    ...px.map((pi) => [...op.get(pi), ...op.i32(4), ...op.add, ...op.set(pi)]),
    [...op.get(w), ...op.i32(32), ...op.add, ...op.set(w)],
  ];
}

/**
 * Direct convolution (no im2col): see `SimdKernels.convDirect`.
 * Per block of 8 output channels (its filter as `packFilter` laid it out), output row and
 * block of 4 output pixels (the 1 to 3 past the last multiple of 4 as one narrower block:
 * moving the last block back to end at Ow instead recomputed 1 to 3 pixels, an eighth of
 * the work at Ow = 7 or 14), 8 accumulators take every tap: for each filter row a whose input row exists, for
 * each of `tapCols` runs of `tapLen` floats (the whole filter row when dw = 1, as x and the
 * HWIO filter are then both contiguous along (e, c)), each step loads the block's 8 filter
 * values of one (e, c) and broadcasts one x value per pixel: 6 loads per 8 multiply-adds,
 * the ratio of `filterGradDirect`.
 */
function convDirect(fma: boolean): FunctionDef {
  const [x, packed, y, h, wp, ci, oh, ow, co, kh, sh, sw, dh, top, tapCols, tapLen, eStep, row0, row1, ob0, ob1] = Array.from({ length: 21 }, (_, i) => i);
  const [R, b, p, ob, q, qq, a, r, e, j, xRow, wptr, pixStep, ldw4, yp, wbase] = Array.from({ length: 16 }, (_, i) => 21 + i);
  const px = [37, 38, 39, 40]; // byte address of pixel qq + i's x at the current (e, c)
  const acc = [41, 42, 43, 44, 45, 46, 47, 48]; // v128: acc[2*i + k], pixel qq + i, outputs ob + 4k ..
  const [w0, w1, xs] = [49, 50, 51];
  /**
   * The block of `pixels` (4, or the 1 to 3 past the last multiple of 4) output pixels qq ..:
   * every tap into 2 accumulators a pixel, then stored. Each pixel sums its taps in the same
   * order whatever its block's size, so the bits do not depend on where the blocks fall.
   */
  const pixelBlock = (pixels: number): Code[] => {
    const pxs = px.slice(0, pixels);
    /** One (e, c) step: the block's 8 filter outputs times each pixel's x, then every pointer on. */
    const step = blockStep(fma, wptr, pxs, acc, [w0, w1, xs]);
    const run: Code[] = [
      // px[i] = xRow + e*eStep + i*pixStep; wptr = wbase + 32*(a*tapCols + e)*tapLen
      [...op.get(xRow), ...op.get(e), ...op.get(eStep), ...op.mul, ...op.add, ...op.set(px[0])],
      ...pxs.slice(1).map((pi, i) => [...op.get(px[i]), ...op.get(pixStep), ...op.add, ...op.set(pi)]),
      [...op.get(a), ...op.get(tapCols), ...op.mul, ...op.get(e), ...op.add, ...op.get(tapLen), ...op.mul, ...op.i32(5), ...op.shl,
        ...op.get(wbase), ...op.add, ...op.set(wptr)],
      // One step per iteration: unrolled further, V8 hoists the broadcasts and spills accumulators.
      forLoop(j, op.i32(0), op.get(tapLen), 1, step),
    ];
    const zero = [...op.f32Const(0), ...op.splat];
    return [
      ...acc.slice(0, 2 * pixels).map((s) => [...zero, ...op.set(s)]),
      forLoop(a, op.i32(0), op.get(kh), 1, [
        [...op.get(p), ...op.get(sh), ...op.mul, ...op.get(a), ...op.get(dh), ...op.mul, ...op.add, ...op.get(top), ...op.sub, ...op.set(r)],
        op.block(
          [...op.get(r), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
          [...op.get(r), ...op.get(h), ...op.geS, ...op.brIf(0)],
          // xRow = x + 4*((b*H + r)*Wp*Ci) + qq*pixStep
          [...op.get(b), ...op.get(h), ...op.mul, ...op.get(r), ...op.add, ...op.get(wp), ...op.mul, ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl,
            ...op.get(x), ...op.add, ...op.get(qq), ...op.get(pixStep), ...op.mul, ...op.add, ...op.set(xRow)],
          forLoop(e, op.i32(0), op.get(tapCols), 1, run),
        ),
      ]),
      // y[R, qq + i, ob ..] = acc
      [...op.get(R), ...op.get(ow), ...op.mul, ...op.get(qq), ...op.add, ...op.get(co), ...op.mul, ...op.get(ob), ...op.add, ...op.i32(2), ...op.shl,
        ...op.get(y), ...op.add, ...op.set(yp)],
      // The last block of Co % 8 != 0 outputs keeps only its first Co - ob lanes: one branch
      // per block picks the store sequence for that many (per-lane branches cost LeNet-5's
      // 6-output first layer a quarter of its time).
      op.block(
        ...[8, 1, 2, 3, 4, 5, 6, 7].map((lanes) =>
          op.block(
            // skip unless Co - ob is `lanes` (or, for 8, at least 8)
            [...op.get(co), ...op.get(ob), ...op.sub, ...op.i32(lanes), ...(lanes === 8 ? op.ltS : op.ne32), ...op.brIf(0)],
            ...pxs.map((_, i) => [
              ...storeLanes(acc[2 * i], acc[2 * i + 1], lanes),
              ...op.get(yp), ...op.get(ldw4), ...op.add, ...op.set(yp),
            ]),
            op.br(1),
          ),
        ),
      ),
    ];
    /** Store the first `lanes` of the 8 floats in (lo, hi) at yp. */
    function storeLanes(lo: number, hi: number, lanes: number): Code {
      const whole = [lo, hi].slice(0, lanes >> 2);
      const part = lanes & 3 ? (lanes < 4 ? lo : hi) : undefined;
      return [
        ...whole.flatMap((v, k) => [...op.get(yp), ...op.get(v), ...op.store(16 * k)]),
        ...Array.from({ length: lanes & 3 }, (_, l) =>
          part === undefined ? [] : [...op.get(yp), ...op.get(part), ...op.lane(l), ...op.f32StoreAt(16 * whole.length + 4 * l)],
        ).flat(),
      ];
    }
  };
  /** The 1 to 3 pixels past the last block of 4, at qq = q: one block of that many. */
  const tail: Code[] = [1, 2, 3].map((pixels) =>
    op.block(
      [...op.get(ow), ...op.get(q), ...op.sub, ...op.i32(pixels), ...op.ne32, ...op.brIf(0)],
      ...pixelBlock(pixels),
    ),
  );
  const body: Code = [
    ...op.get(co), ...op.i32(2), ...op.shl, ...op.set(ldw4),
    ...op.get(sw), ...op.get(ci), ...op.mul, ...op.i32(2), ...op.shl, ...op.set(pixStep),
    // Blocks of outputs outermost: the block's filter stays in cache for every row.
    ...forLoop(ob, op.get(ob0), op.get(ob1), 8, [
      // wbase = packed + 32*(ob/8)*taps: this block's filter
      [...op.get(ob), ...op.get(kh), ...op.mul, ...op.get(tapCols), ...op.mul, ...op.get(tapLen), ...op.mul,
        ...op.i32(2), ...op.shl, ...op.get(packed), ...op.add, ...op.set(wbase)],
      forLoop(R, op.get(row0), op.get(row1), 1, [
        // b = R / Oh; p = R - b*Oh
        [...op.get(R), ...op.get(R), ...op.get(oh), ...op.divS, ...op.tee(b), ...op.get(oh), ...op.mul, ...op.sub, ...op.set(p)],
        // Blocks of 4 pixels while 4 fit (q + 4 <= Ow), then the rest as one narrower block.
        [...op.i32(0), ...op.set(q)],
        op.block(
          op.loop(
            [...op.get(q), ...op.i32(4), ...op.add, ...op.get(ow), ...op.gtS, ...op.brIf(1)],
            [...op.get(q), ...op.set(qq)],
            ...pixelBlock(4),
            [...op.get(q), ...op.i32(4), ...op.add, ...op.set(q)],
            op.br(0),
          ),
        ),
        [...op.get(q), ...op.set(qq)],
        ...tail,
      ]),
    ]),
  ];
  return { name: 'convDirect', params: 21, results: [], locals: { i32: 20, v128: 11 }, body };
}

/** `fma`: as gemmNT's. */
function winogradProducts(fma: boolean): FunctionDef {
  const [v, vPlane, u, m, mPlane, tiles, c, k, k0, k1, ob0, ob1] = Array.from({ length: 12 }, (_, i) => i);
  const [plane, ob, vk, wob, yk, t, end, w, yp, pixStep, rowStep] = Array.from({ length: 11 }, (_, i) => 12 + i);
  const px = [23, 24, 25, 26]; // byte address of tile t + i's value at the current channel
  const acc = [27, 28, 29, 30, 31, 32, 33, 34]; // v128: acc[2*i + j], tile t + i, outputs ob + 4j ..
  const [w0, w1, xs] = [35, 36, 37];
  const step = blockStep(fma, w, px, acc, [w0, w1, xs]);
  const zero = [...op.f32Const(0), ...op.splat];
  const block: Code[] = [
    // px[i] = vk + (t + i)*pixStep; the channels end where tile t + 1's begin.
    [...op.get(vk), ...op.get(t), ...op.get(pixStep), ...op.mul, ...op.add, ...op.tee(px[0]), ...op.get(pixStep), ...op.add, ...op.set(end)],
    ...px.slice(1).map((pi, i) => [...op.get(px[i]), ...op.get(pixStep), ...op.add, ...op.set(pi)]),
    [...op.get(wob), ...op.set(w)],
    ...acc.map((s) => [...zero, ...op.set(s)]),
    op.block(
      op.loop(
        // Unsigned: heap addresses may pass 2 GB.
        [...op.get(px[0]), ...op.get(end), ...op.geU, ...op.brIf(1)],
        ...step,
        op.br(0),
      ),
    ),
    // m[k][t + i, ob ..] = acc
    [...op.get(yk), ...op.get(t), ...op.get(rowStep), ...op.mul, ...op.add, ...op.set(yp)],
    ...[0, 1, 2, 3].map((i) => [
      ...op.get(yp), ...op.get(acc[2 * i]), ...op.store(0),
      ...op.get(yp), ...op.get(acc[2 * i + 1]), ...op.store(16),
      ...op.get(yp), ...op.get(rowStep), ...op.add, ...op.set(yp),
    ]),
  ];
  const body: Code = [
    ...op.get(c), ...op.i32(2), ...op.shl, ...op.set(pixStep),
    ...op.get(k), ...op.i32(2), ...op.shl, ...op.set(rowStep),
    ...forLoop(plane, op.get(k0), op.get(k1), 1, [
      [...op.get(v), ...op.get(plane), ...op.get(vPlane), ...op.mul, ...op.add, ...op.set(vk)],
      forLoop(ob, op.get(ob0), op.get(ob1), 8, [
        // wob = u + 4*(plane*C*K + C*ob) (the block of 8 outputs ob/8, 32 bytes a channel)
        [...op.get(plane), ...op.get(k), ...op.mul, ...op.get(ob), ...op.add, ...op.get(c), ...op.mul, ...op.i32(2), ...op.shl,
          ...op.get(u), ...op.add, ...op.set(wob)],
        [...op.get(m), ...op.get(plane), ...op.get(mPlane), ...op.mul, ...op.add, ...op.get(ob), ...op.i32(2), ...op.shl, ...op.add, ...op.set(yk)],
        forLoop(t, op.i32(0), op.get(tiles), 4, block),
      ]),
    ]),
  ];
  return { name: 'winogradProducts', params: 12, results: [], locals: { i32: 15, v128: 11 }, body };
}

/**
 * dst[ob/8, t, 0..8) = w[t, ob .. ob + 8) for the filter rows t in [t0, t1) of a [taps, Co]
 * filter (Co % 8 == 0): each block of 8 outputs' filter contiguous, its rows 32 bytes apart.
 */
function packFilter(): FunctionDef {
  const [w, dst, taps, co, t0, t1] = [0, 1, 2, 3, 4, 5];
  const [t, ob, src, to] = [6, 7, 8, 9];
  const body: Code = forLoop(t, op.get(t0), op.get(t1), 1, [
    [...op.get(t), ...op.get(co), ...op.mul, ...op.i32(2), ...op.shl, ...op.get(w), ...op.add, ...op.set(src)],
    [...op.get(t), ...op.i32(5), ...op.shl, ...op.get(dst), ...op.add, ...op.set(to)],
    forLoop(ob, op.i32(0), op.get(co), 8, [
      [...op.get(to), ...op.get(src), ...op.load(), ...op.store(), ...op.get(to), ...op.get(src), ...op.load(16), ...op.store(16)],
      [...op.get(src), ...op.i32(32), ...op.add, ...op.set(src)],
      [...op.get(to), ...op.get(taps), ...op.i32(5), ...op.shl, ...op.add, ...op.set(to)],
    ]),
  ]);
  return { name: 'packFilter', params: 6, results: [], locals: { i32: 4 }, body };
}

// Winograd F(2x2, 3x3) (Lavin and Gray, 2015): a 3x3 convolution's 2x2 block of outputs from a
// 4x4 window as 16 products instead of 36. With B^T, G and A^T below, Y = A^T [(G g G^T) . (B^T
// d B)] A; the 16 elementwise products, summed over input channels, are 16 matrix products
// (convDirect on 1x1 filters, winograd.ts).
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]

/** Row k of B^T applied to four values: [index, sign] of its two terms. */
const WINOGRAD_BT: [number, number, number, number][] = [
  [0, 1, 2, -1],
  [1, 1, 2, 1],
  [2, 1, 1, -1],
  [1, 1, 3, -1],
];

/** a + sign*b on the stack, given the code that loads a and b. */
function plusOrMinus(a: Code, b: Code, sign: number): Code {
  return [...a, ...b, ...(sign > 0 ? op.fadd : op.fsub)];
}

/**
 * `for (t = t0; t < t1; t++) body` over the tiles of a batch, with (b, i, j) the tile's image,
 * row and column (t = (b*tilesH + i)*tilesW + j) kept by counting rather than divided out each
 * tile (two integer divisions a tile otherwise; the gain was not measured apart from other
 * changes). `tilesH` is a local the walk sets.
 */
function tileWalk(
  [t, t0, t1, perImage, tilesW]: number[],
  [b, i, j, tilesH]: number[],
  body: Code[],
): Code {
  return [
    ...op.get(perImage), ...op.get(tilesW), ...op.divS, ...op.set(tilesH),
    ...op.get(t0), ...op.get(perImage), ...op.divS, ...op.set(b),
    ...op.get(t0), ...op.get(b), ...op.get(perImage), ...op.mul, ...op.sub, ...op.tee(j), ...op.get(tilesW), ...op.divS, ...op.set(i),
    ...op.get(j), ...op.get(i), ...op.get(tilesW), ...op.mul, ...op.sub, ...op.set(j),
    ...forLoop(t, op.get(t0), op.get(t1), 1, [
      ...body,
      // j += 1, carrying into i and b
      op.block(
        [...op.get(j), ...op.i32(1), ...op.add, ...op.tee(j), ...op.get(tilesW), ...op.ne32, ...op.brIf(0)],
        [...op.i32(0), ...op.set(j), ...op.get(i), ...op.i32(1), ...op.add, ...op.tee(i), ...op.get(tilesH), ...op.ne32, ...op.brIf(0)],
        [...op.i32(0), ...op.set(i), ...op.get(b), ...op.i32(1), ...op.add, ...op.set(b)],
      ),
    ]),
  ];
}

function winogradInput(): FunctionDef {
  const [xp, v, cBytes, perImage, tilesW, rowBytes, imageBytes, planeBytes, t0, t1, o0, o1] = Array.from({ length: 12 }, (_, i) => i);
  const [t, b, j, i, src, dst, o, q] = Array.from({ length: 8 }, (_, k) => 12 + k);
  const tilesH = 43;
  const col = [20, 21, 22]; // byte offsets of the window's columns 1 to 3
  const rowAt = [23, 24, 25, 26]; // the window's row a at this step's channels
  const plane = Array.from({ length: 16 }, (_, k) => 27 + k); // value k at q + plane[k]
  const row = [44, 45, 46, 47]; // v128: one row of B^T d
  const load = (a: number, e: number): Code => [...op.get(rowAt[a]), ...(e ? [...op.get(col[e - 1]), ...op.add] : []), ...op.load()];
  const body: Code = [
    ...col.flatMap((l, k) => [...op.get(cBytes), ...op.i32(k + 1), ...op.mul, ...op.set(l)]),
    ...plane.flatMap((l, k) => [...op.get(planeBytes), ...op.i32(k), ...op.mul, ...op.set(l)]),
    ...tileWalk([t, t0, t1, perImage, tilesW], [b, i, j, tilesH], [
      // src = xp + b*imageBytes + 2i*rowBytes + 2j*cBytes
      [...op.get(xp), ...op.get(b), ...op.get(imageBytes), ...op.mul, ...op.add,
        ...op.get(i), ...op.get(rowBytes), ...op.mul, ...op.i32(1), ...op.shl, ...op.add,
        ...op.get(j), ...op.get(cBytes), ...op.mul, ...op.i32(1), ...op.shl, ...op.add,
        ...op.set(src)],
      [...op.get(v), ...op.get(t), ...op.get(cBytes), ...op.mul, ...op.add, ...op.set(dst)],
      forLoop(o, op.get(o0), op.get(o1), 16, [
        ...rowAt.map((l, a) => [...op.get(src), ...op.get(rowBytes), ...op.i32(a), ...op.mul, ...op.add, ...op.get(o), ...op.add, ...op.set(l)]),
        [...op.get(dst), ...op.get(o), ...op.add, ...op.set(q)],
        ...WINOGRAD_BT.flatMap(([a0, s0, a1, s1], r) => [
          // row r of B^T d, then that row times B
          ...row.map((l, e) => [...plusOrMinus(load(a0, e), load(a1, e), s0 * s1), ...op.set(l)]),
          ...WINOGRAD_BT.map(([e0, z0, e1, z1], s) => [
            ...op.get(q), ...op.get(plane[4 * r + s]), ...op.add,
            ...plusOrMinus(op.get(row[e0]), op.get(row[e1]), z0 * z1), ...op.store(),
          ]),
        ]),
      ]),
    ]),
  ];
  return { name: 'winogradInput', params: 12, results: [], locals: { i32: 32, v128: 4 }, body };
}

function winogradOutput(): FunctionDef {
  const [m, y, kBytes, perImage, tilesW, oh, ow, rowBytes, planeBytes, t0, t1] = Array.from({ length: 11 }, (_, i) => i);
  const [t, b, tilesH, i, j, src, dst, o, down, right] = Array.from({ length: 10 }, (_, k) => 11 + k);
  const plane = Array.from({ length: 16 }, (_, k) => 21 + k);
  const u = [37, 38, 39, 40, 41, 42, 43, 44]; // v128: rows 0 and 1 of A^T m, 4 values each
  const load = (k: number): Code => [...op.get(src), ...op.get(plane[k]), ...op.add, ...op.get(o), ...op.add, ...op.load()];
  // A^T's rows: m0 + m1 + m2 and m1 - m2 - m3
  const first = (at: (k: number) => Code): Code => [...at(0), ...at(1), ...op.fadd, ...at(2), ...op.fadd];
  const second = (at: (k: number) => Code): Code => [...at(1), ...at(2), ...op.fsub, ...at(3), ...op.fsub];
  const store = (extra: Code, value: Code): Code => [...op.get(dst), ...op.get(o), ...op.add, ...extra, ...value, ...op.store()];
  const body: Code = [
    ...plane.flatMap((l, k) => [...op.get(planeBytes), ...op.i32(k), ...op.mul, ...op.set(l)]),
    ...tileWalk([t, t0, t1, perImage, tilesW], [b, i, j, tilesH], [
      // dst = y + (b*oh + 2i)*rowBytes + 2j*kBytes; down / right: the tile's second row / column is inside y
      [...op.get(y), ...op.get(b), ...op.get(oh), ...op.mul, ...op.get(i), ...op.i32(1), ...op.shl, ...op.add, ...op.get(rowBytes), ...op.mul, ...op.add,
        ...op.get(j), ...op.i32(1), ...op.shl, ...op.get(kBytes), ...op.mul, ...op.add, ...op.set(dst)],
      [...op.get(i), ...op.i32(1), ...op.shl, ...op.i32(1), ...op.add, ...op.get(oh), ...op.ltS, ...op.set(down)],
      [...op.get(j), ...op.i32(1), ...op.shl, ...op.i32(1), ...op.add, ...op.get(ow), ...op.ltS, ...op.set(right)],
      [...op.get(m), ...op.get(t), ...op.get(kBytes), ...op.mul, ...op.add, ...op.set(src)],
      forLoop(o, op.i32(0), op.get(kBytes), 16, [
        // u[s] = (A^T m)[0][s], u[4 + s] = (A^T m)[1][s]: over the rows r of m (value 4r + s)
        ...[0, 1, 2, 3].flatMap((s) => [
          [...first((r) => load(4 * r + s)), ...op.set(u[s])],
          [...second((r) => load(4 * r + s)), ...op.set(u[4 + s])],
        ]),
        store([], first((s) => op.get(u[s]))),
        op.block([...op.get(right), ...op.eqz, ...op.brIf(0)], store([...op.get(kBytes), ...op.add], second((s) => op.get(u[s])))),
        op.block(
          [...op.get(down), ...op.eqz, ...op.brIf(0)],
          store([...op.get(rowBytes), ...op.add], first((s) => op.get(u[4 + s]))),
          [...op.get(right), ...op.eqz, ...op.brIf(0)],
          store([...op.get(rowBytes), ...op.add, ...op.get(kBytes), ...op.add], second((s) => op.get(u[4 + s]))),
        ),
      ]),
    ]),
  ];
  return { name: 'winogradOutput', params: 11, results: [], locals: { i32: 26, v128: 8 }, body };
}

/** A's rows (A^T's columns), [coefficient of the first value, of the second]. */
const WINOGRAD_A: [number, number][] = [
  [1, 0],
  [1, 1],
  [1, -1],
  [0, -1],
];

/** c0*a + c1*b on the stack for coefficients in {-1, 0, 1} (not both 0). */
function combine(a: Code, b: Code, [c0, c1]: [number, number]): Code {
  if (c0 === 0) return c1 > 0 ? b : [...b, ...op.fneg];
  if (c1 === 0) return c0 > 0 ? a : [...a, ...op.fneg];
  return [...a, ...b, ...(c1 > 0 ? op.fadd : op.fsub)];
}

function winogradDy(): FunctionDef {
  const [dy, d, kBytes, perImage, tilesW, oh, ow, rowBytes, planeBytes, t0, t1] = Array.from({ length: 11 }, (_, i) => i);
  const [t, b, tilesH, i, j, src, dst, o, down, right] = Array.from({ length: 10 }, (_, k) => 11 + k);
  const plane = Array.from({ length: 16 }, (_, k) => 21 + k);
  const y = [37, 38, 39, 40]; // v128: the tile's dy, y[2a + e]
  const w = [41, 42]; // v128: one row of A dY
  // y[k] = dy at src + offset (k > 0: only where its row / column is inside dy), else 0
  const loadY = (k: number): Code[] => {
    const offset = [[], [...op.get(kBytes), ...op.add], [...op.get(rowBytes), ...op.add], [...op.get(rowBytes), ...op.add, ...op.get(kBytes), ...op.add]][k];
    const inside = [[], [...op.get(right)], [...op.get(down)], [...op.get(down), ...op.get(right), ...op.and32]][k];
    const load = [...op.get(src), ...op.get(o), ...op.add, ...offset, ...op.load(), ...op.set(y[k])];
    if (k === 0) return [load];
    return [[...op.f32Const(0), ...op.splat, ...op.set(y[k])], op.block([...inside, ...op.eqz, ...op.brIf(0)], load)];
  };
  const body: Code = [
    ...plane.flatMap((l, k) => [...op.get(planeBytes), ...op.i32(k), ...op.mul, ...op.set(l)]),
    ...tileWalk([t, t0, t1, perImage, tilesW], [b, i, j, tilesH], [
      [...op.get(dy), ...op.get(b), ...op.get(oh), ...op.mul, ...op.get(i), ...op.i32(1), ...op.shl, ...op.add, ...op.get(rowBytes), ...op.mul, ...op.add,
        ...op.get(j), ...op.i32(1), ...op.shl, ...op.get(kBytes), ...op.mul, ...op.add, ...op.set(src)],
      [...op.get(i), ...op.i32(1), ...op.shl, ...op.i32(1), ...op.add, ...op.get(oh), ...op.ltS, ...op.set(down)],
      [...op.get(j), ...op.i32(1), ...op.shl, ...op.i32(1), ...op.add, ...op.get(ow), ...op.ltS, ...op.set(right)],
      [...op.get(d), ...op.get(t), ...op.get(kBytes), ...op.mul, ...op.add, ...op.set(dst)],
      forLoop(o, op.i32(0), op.get(kBytes), 16, [
        ...[0, 1, 2, 3].flatMap(loadY),
        ...WINOGRAD_A.flatMap((rowCoefficients, r) => [
          // row r of A dY (over the columns e), then that row times A^T
          ...w.map((l, e) => [...combine(op.get(y[e]), op.get(y[2 + e]), rowCoefficients), ...op.set(l)]),
          ...WINOGRAD_A.map((columnCoefficients, s) => [
            ...op.get(dst), ...op.get(plane[4 * r + s]), ...op.add, ...op.get(o), ...op.add,
            ...combine(op.get(w[0]), op.get(w[1]), columnCoefficients), ...op.store(),
          ]),
        ]),
      ]),
    ]),
  ];
  return { name: 'winogradDy', params: 11, results: [], locals: { i32: 26, v128: 6 }, body };
}

function winogradFilterGrad(): FunctionDef {
  const [m, dw, c, kBytes, planeBytes, c0, c1] = Array.from({ length: 7 }, (_, i) => i);
  const [ch, o, src, tapBytes] = Array.from({ length: 4 }, (_, k) => 7 + k);
  const plane = Array.from({ length: 16 }, (_, k) => 11 + k);
  const h = Array.from({ length: 12 }, (_, k) => 27 + k); // v128: (m G)[r][e] = h[3r + e]
  const half = [...op.f32Const(0.5), ...op.splat, ...op.fmul];
  // G^T applied to four values: [v0 + (v1 + v2)/2, (v1 - v2)/2, (v1 + v2)/2 + v3]
  const gtRows = (at: (k: number) => Code): Code[] => [
    [...at(1), ...at(2), ...op.fadd, ...half, ...at(0), ...op.fadd],
    [...at(1), ...at(2), ...op.fsub, ...half],
    [...at(1), ...at(2), ...op.fadd, ...half, ...at(3), ...op.fadd],
  ];
  const load = (k: number): Code => [...op.get(src), ...op.get(plane[k]), ...op.add, ...op.load()];
  const body: Code = [
    ...op.get(c), ...op.get(kBytes), ...op.mul, ...op.set(tapBytes),
    ...plane.flatMap((l, k) => [...op.get(planeBytes), ...op.i32(k), ...op.mul, ...op.set(l)]),
    ...forLoop(ch, op.get(c0), op.get(c1), 1, [
      forLoop(o, op.i32(0), op.get(kBytes), 16, [
        [...op.get(m), ...op.get(ch), ...op.get(kBytes), ...op.mul, ...op.add, ...op.get(o), ...op.add, ...op.set(src)],
        // row r of m times G, then G^T times those rows
        ...[0, 1, 2, 3].flatMap((r) => gtRows((s) => load(4 * r + s)).map((value, e) => [...value, ...op.set(h[3 * r + e])])),
        ...[0, 1, 2].flatMap((e) =>
          gtRows((r) => op.get(h[3 * r + e])).map((value, a) => [
            // dW[a, e, ch, o ..] at dw + (a*3 + e)*tapBytes + ch*kBytes + o
            ...op.get(dw), ...op.i32(a * 3 + e), ...op.get(tapBytes), ...op.mul, ...op.add,
            ...op.get(ch), ...op.get(kBytes), ...op.mul, ...op.add, ...op.get(o), ...op.add,
            ...value, ...op.store(),
          ]),
        ),
      ]),
    ]),
  ];
  return { name: 'winogradFilterGrad', params: 7, results: [], locals: { i32: 20, v128: 12 }, body };
}

function winogradFilter(): FunctionDef {
  const [w, u, c, kBytes, planeBytes, c0, c1] = Array.from({ length: 7 }, (_, i) => i);
  const [ch, o, src, dst, tapBytes] = Array.from({ length: 5 }, (_, k) => 7 + k);
  const plane = Array.from({ length: 16 }, (_, k) => 12 + k);
  const g = Array.from({ length: 9 }, (_, k) => 28 + k); // v128: g[a][e] = g[3a + e]
  const h = [37, 38, 39]; // v128: one row of G g
  const half = [...op.f32Const(0.5), ...op.splat, ...op.fmul];
  // G applied to three values: [first, (a + b + c)/2, (a - b + c)/2, third]
  const gRows = (at: (k: number) => Code): Code[] => [
    at(0),
    [...at(0), ...at(1), ...op.fadd, ...at(2), ...op.fadd, ...half],
    [...at(0), ...at(1), ...op.fsub, ...at(2), ...op.fadd, ...half],
    at(2),
  ];
  const body: Code = [
    ...op.get(c), ...op.get(kBytes), ...op.mul, ...op.set(tapBytes),
    ...plane.flatMap((l, k) => [...op.get(planeBytes), ...op.i32(k), ...op.mul, ...op.set(l)]),
    ...forLoop(ch, op.get(c0), op.get(c1), 1, [
      forLoop(o, op.i32(0), op.get(kBytes), 16, [
        // src = w + ch*kBytes + o; dst = u + (o/32)*32*C + 32*ch + o % 32
        [...op.get(w), ...op.get(ch), ...op.get(kBytes), ...op.mul, ...op.add, ...op.get(o), ...op.add, ...op.set(src)],
        [...op.get(u), ...op.get(o), ...op.i32(5), ...op.shrU, ...op.get(c), ...op.mul, ...op.get(ch), ...op.add, ...op.i32(5), ...op.shl, ...op.add,
          ...op.get(o), ...op.i32(31), ...op.and32, ...op.add, ...op.set(dst)],
        ...g.map((l, k) => [...op.get(src), ...op.get(tapBytes), ...op.i32(k), ...op.mul, ...op.add, ...op.load(), ...op.set(l)]),
        ...[0, 1, 2, 3].flatMap((r) => [
          // row r of G g (over e), then that row times G^T
          ...h.map((l, e) => [...gRows((a) => op.get(g[3 * a + e]))[r], ...op.set(l)]),
          ...gRows((e) => op.get(h[e])).map((value, s) => [...op.get(dst), ...op.get(plane[4 * r + s]), ...op.add, ...value, ...op.store()]),
        ]),
      ]),
    ]),
  ];
  return { name: 'winogradFilter', params: 7, results: [], locals: { i32: 21, v128: 12 }, body };
}

/**
 * memory.fill(dst, 0, bytes). Why in wasm: in the threaded build the heap is a
 * SharedArrayBuffer, and a Float32Array's `fill(0)` on it ran 10x slower than on a plain
 * buffer here (92 vs 9 us for 1.2 MB: LeNet-5's max-pool gradient).
 */
function zeroBytes(): FunctionDef {
  const body: Code = [...op.get(0), ...op.i32(0), ...op.get(1), ...op.memoryFill];
  return { name: 'zeroBytes', params: 2, results: [], locals: {}, body };
}

/**
 * dx = dy * step(x), 4 floats a step, step(x) = 1 where x > 0, NaN where x is NaN, else 0
 * (tfjs's Step, as its cpu backend computes it), so the product has the bits of the
 * Step-then-Multiply pair this replaces.
 */
function reluGrad(): FunctionDef {
  const [dy, x, dx, count] = [0, 1, 2, 3];
  const [i, at, xs] = [4, 5, 6]; // at = 4*i, the byte offset
  const body: Code = forLoop(i, op.i32(0), op.get(count), 4, [
    [...op.get(i), ...op.i32(2), ...op.shl, ...op.set(at)],
    [...op.get(x), ...op.get(at), ...op.add, ...op.load(), ...op.set(xs)],
    [...op.get(dx), ...op.get(at), ...op.add],
    [...op.get(dy), ...op.get(at), ...op.add, ...op.load()],
    // step(x) = (x > 0 ? 1.0 : 0.0) | (x is NaN ? x : 0)
    [...op.get(xs), ...op.f32Const(0), ...op.splat, ...op.gt, ...op.f32Const(1), ...op.splat, ...op.and],
    [...op.get(xs), ...op.get(xs), ...op.get(xs), ...op.ne, ...op.and, ...op.or],
    [...op.fmul, ...op.store()],
  ]);
  return { name: 'reluGrad', params: 4, results: [], locals: { i32: 2, v128: 1 }, body };
}

/** `SimdKernels.relu`. */
function relu(): FunctionDef {
  const [x, y, count] = [0, 1, 2];
  const [i, at] = [3, 4]; // at = 4*i, the byte offset
  const body: Code = forLoop(i, op.i32(0), op.get(count), 4, [
    [...op.get(i), ...op.i32(2), ...op.shl, ...op.set(at)],
    [...op.get(y), ...op.get(at), ...op.add],
    [...op.get(x), ...op.get(at), ...op.add, ...op.load(), ...op.f32Const(0), ...op.splat, ...op.fmax, ...op.store()],
  ]);
  return { name: 'relu', params: 3, results: [], locals: { i32: 2 }, body };
}

/** dst rows of left + row + right bytes: zeros, src's row, zeros (see `SimdKernels.padColumns`). */
function padColumns(): FunctionDef {
  const [src, dst, rows, rowBytes, left, right] = [0, 1, 2, 3, 4, 5];
  const [i, d] = [6, 7];
  const body: Code = [
    ...op.get(dst), ...op.set(d),
    ...forLoop(i, op.i32(0), op.get(rows), 1, [
      [...op.get(d), ...op.i32(0), ...op.get(left), ...op.memoryFill, ...op.get(d), ...op.get(left), ...op.add, ...op.set(d)],
      [...op.get(d), ...op.get(src), ...op.get(i), ...op.get(rowBytes), ...op.mul, ...op.add, ...op.get(rowBytes), ...op.memoryCopy],
      [...op.get(d), ...op.get(rowBytes), ...op.add, ...op.tee(d), ...op.i32(0), ...op.get(right), ...op.memoryFill],
      [...op.get(d), ...op.get(right), ...op.add, ...op.set(d)],
    ]),
  ];
  return { name: 'padColumns', params: 6, results: [], locals: { i32: 2 }, body };
}

function depthwiseFilterGrad(): FunctionDef {
  const [x, dy, acc, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, top, left] = Array.from({ length: 17 }, (_, i) => i);
  const [b, p, q, a, e, r, col, dyo, xo, ao, j, c4b, cb] = Array.from({ length: 13 }, (_, i) => 17 + i);
  const tap: Code[] = [
    [...op.get(q), ...op.get(sw), ...op.mul, ...op.get(e), ...op.get(dw), ...op.mul, ...op.add, ...op.get(left), ...op.sub, ...op.set(col)],
    op.block(
      [...op.get(col), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
      [...op.get(col), ...op.get(w), ...op.geS, ...op.brIf(0)],
      // xo = x + (((b*h + r)*w + col) * C) * 4; ao = acc + ((a*kw + e) * C) * 4
      [...op.get(b), ...op.get(h), ...op.mul, ...op.get(r), ...op.add, ...op.get(w), ...op.mul, ...op.get(col), ...op.add,
        ...op.get(cb), ...op.mul, ...op.get(x), ...op.add, ...op.set(xo)],
      [...op.get(a), ...op.get(kw), ...op.mul, ...op.get(e), ...op.add, ...op.get(cb), ...op.mul, ...op.get(acc), ...op.add, ...op.set(ao)],
      forLoop(j, op.i32(0), op.get(c4b), 16, [
        [...op.get(ao), ...op.get(j), ...op.add, ...op.get(ao), ...op.get(j), ...op.add, ...op.load(),
          ...op.get(xo), ...op.get(j), ...op.add, ...op.load(), ...op.get(dyo), ...op.get(j), ...op.add, ...op.load(),
          ...op.fmul, ...op.fadd, ...op.store()],
      ]),
      forLoop(j, op.get(c4b), op.get(cb), 4, [
        [...op.get(ao), ...op.get(j), ...op.add, ...op.get(ao), ...op.get(j), ...op.add, ...op.f32Load,
          ...op.get(xo), ...op.get(j), ...op.add, ...op.f32Load, ...op.get(dyo), ...op.get(j), ...op.add, ...op.f32Load,
          ...op.f32Mul, ...op.f32Add, ...op.f32Store],
      ]),
    ),
  ];
  const body: Code = [
    ...op.get(c), ...op.i32(2), ...op.shl, ...op.set(cb),
    ...op.get(c), ...op.i32(-4), ...op.and32, ...op.i32(2), ...op.shl, ...op.set(c4b),
    ...forLoop(b, op.i32(0), op.get(n), 1, [
      forLoop(p, op.i32(0), op.get(oh), 1, [
        forLoop(q, op.i32(0), op.get(ow), 1, [
          [...op.get(b), ...op.get(oh), ...op.mul, ...op.get(p), ...op.add, ...op.get(ow), ...op.mul, ...op.get(q), ...op.add,
            ...op.get(cb), ...op.mul, ...op.get(dy), ...op.add, ...op.set(dyo)],
          forLoop(a, op.i32(0), op.get(kh), 1, [
            [...op.get(p), ...op.get(sh), ...op.mul, ...op.get(a), ...op.get(dh), ...op.mul, ...op.add, ...op.get(top), ...op.sub, ...op.set(r)],
            op.block(
              [...op.get(r), ...op.i32(0), ...op.ltS, ...op.brIf(0)],
              [...op.get(r), ...op.get(h), ...op.geS, ...op.brIf(0)],
              forLoop(e, op.i32(0), op.get(kw), 1, tap),
            ),
          ]),
        ]),
      ]),
    ]),
  ];
  return { name: 'depthwiseFilterGrad', params: 17, results: [], locals: { i32: 13 }, body };
}

/** What a `streamKernel` body can read and write at the current 4 floats. */
interface StreamAccess {
  /** Push stream k's 4 floats (elementwise input, at the flat index). */
  input(k: number): Code;
  /** Push pattern k's 4 floats (a [period] vector, at the index within the block). */
  pattern(k: number): Code;
  /** Store `value` (pushes one v128) into pattern k (an accumulator). */
  storePattern(k: number, value: Code): Code;
  /** Store `value` into elementwise output k. */
  storeOutput(k: number, value: Code): Code;
}

/**
 * A kernel over flat [total] data walked in blocks of `period` floats (period % 4 == 0, so the
 * channel of every float of a block is fixed when period = lcm(C, 4)): parameters are
 * `inputs` elementwise inputs, `patterns` [period] vectors (read, or accumulated into), and
 * `outputs` elementwise outputs, then total and period. `body` does 4 floats.
 */
function streamKernel(
  kernelName: string,
  counts: { inputs: number; patterns: number; outputs: number },
  body: (at: StreamAccess) => Code[],
): FunctionDef {
  const { inputs, patterns, outputs } = counts;
  const params = inputs + patterns + outputs + 2;
  const [total, period] = [params - 2, params - 1];
  const [i, j, e, p] = [params, params + 1, params + 2, params + 3];
  const at: StreamAccess = {
    input: (k) => [...op.get(k), ...op.get(e), ...op.add, ...op.load()],
    pattern: (k) => [...op.get(inputs + k), ...op.get(p), ...op.add, ...op.load()],
    storePattern: (k, value) => [...op.get(inputs + k), ...op.get(p), ...op.add, ...value, ...op.store()],
    storeOutput: (k, value) => [...op.get(inputs + patterns + k), ...op.get(e), ...op.add, ...value, ...op.store()],
  };
  const code: Code = forLoop(i, op.i32(0), op.get(total), 0, [
    forLoop(j, op.i32(0), op.get(period), 4, [
      [...op.get(i), ...op.get(j), ...op.add, ...op.i32(2), ...op.shl, ...op.set(e)],
      [...op.get(j), ...op.i32(2), ...op.shl, ...op.set(p)],
      ...body(at),
    ]),
    [...op.get(i), ...op.get(period), ...op.add, ...op.set(i)],
  ]);
  return { name: kernelName, params, results: [], locals: { i32: 4 }, body: code };
}

/**
 * The batch-norm kernels (batch-norm.ts), per block of channels-last data, with `mean`,
 * `k`, `meanDy`, `scale`, `shift` and the accumulators [period] vectors:
 * - bnSquaredDeviations: acc += (x - mean)^2
 * - bnAffine: y = x * scale + shift
 * - bnGradientSums: accDy += dy; accDot += dy * (x - mean)
 * - bnInputGradient: dx = (dy - meanDy - (x - mean) * k) * scale
 */
function batchNormKernels(): FunctionDef[] {
  return [
    streamKernel('bnSquaredDeviations', { inputs: 1, patterns: 2, outputs: 0 }, (at) => {
      const deviation = [...at.input(0), ...at.pattern(0), ...op.fsub];
      return [at.storePattern(1, [...at.pattern(1), ...deviation, ...deviation, ...op.fmul, ...op.fadd])];
    }),
    streamKernel('bnAffine', { inputs: 1, patterns: 2, outputs: 1 }, (at) => [
      at.storeOutput(0, [...at.input(0), ...at.pattern(0), ...op.fmul, ...at.pattern(1), ...op.fadd]),
    ]),
    streamKernel('bnGradientSums', { inputs: 2, patterns: 3, outputs: 0 }, (at) => [
      at.storePattern(1, [...at.pattern(1), ...at.input(0), ...op.fadd]),
      at.storePattern(2, [...at.pattern(2), ...at.input(0), ...at.input(1), ...at.pattern(0), ...op.fsub, ...op.fmul, ...op.fadd]),
    ]),
    streamKernel('bnInputGradient', { inputs: 2, patterns: 4, outputs: 1 }, (at) => [
      at.storeOutput(0, [
        ...at.input(0), ...at.pattern(2), ...op.fsub,
        ...at.input(1), ...at.pattern(0), ...op.fsub, ...at.pattern(1), ...op.fmul, ...op.fsub,
        ...at.pattern(3), ...op.fmul,
      ]),
    ]),
  ];
}

/**
 * dst[c * ldd + r] = src[r * cols + c] for r < rows, c < cols: a 2-D transpose, 4x4 blocks
 * in registers (two rounds of shuffles), the edges one float at a time.
 */
function transpose2d(): FunctionDef {
  const [src, dst, rows, cols, ldd] = [0, 1, 2, 3, 4];
  const [r, c, rows4, cols4, from, to, ldb, simdEnd] = [5, 6, 7, 8, 9, 10, 11, 12];
  const v = [13, 14, 15, 16]; // v128
  const t = [17, 18, 19, 20];
  const at = (base: number, row: Code, col: Code, stride: Code): Code => [
    ...row, ...stride, ...op.mul, ...col, ...op.add, ...op.i32(2), ...op.shl, ...op.get(base), ...op.add,
  ];
  const one: Code = [...at(dst, op.get(c), op.get(r), op.get(ldd)), ...at(src, op.get(r), op.get(c), op.get(cols)), ...op.f32Load, ...op.f32Store];
  const block: Code[] = [
    // v[i] = src[r + i, c .. c + 4)
    [...at(src, op.get(r), op.get(c), op.get(cols)), ...op.set(from)],
    ...[0, 1, 2, 3].map((i) => [...op.get(from), ...op.get(ldb), ...op.i32(i), ...op.mul, ...op.add, ...op.load(), ...op.set(v[i])]),
    [...op.get(v[0]), ...op.get(v[1]), ...op.shuffle([0, 4, 1, 5]), ...op.set(t[0])],
    [...op.get(v[0]), ...op.get(v[1]), ...op.shuffle([2, 6, 3, 7]), ...op.set(t[1])],
    [...op.get(v[2]), ...op.get(v[3]), ...op.shuffle([0, 4, 1, 5]), ...op.set(t[2])],
    [...op.get(v[2]), ...op.get(v[3]), ...op.shuffle([2, 6, 3, 7]), ...op.set(t[3])],
    // dst[c + j, r .. r + 4) = column j of the block
    [...at(dst, op.get(c), op.get(r), op.get(ldd)), ...op.set(to)],
    [...op.get(to), ...op.get(t[0]), ...op.get(t[2]), ...op.shuffle([0, 1, 4, 5]), ...op.store()],
    [...op.get(to), ...op.get(ldd), ...op.i32(4), ...op.mul, ...op.add, ...op.get(t[0]), ...op.get(t[2]), ...op.shuffle([2, 3, 6, 7]), ...op.store()],
    [...op.get(to), ...op.get(ldd), ...op.i32(8), ...op.mul, ...op.add, ...op.get(t[1]), ...op.get(t[3]), ...op.shuffle([0, 1, 4, 5]), ...op.store()],
    [...op.get(to), ...op.get(ldd), ...op.i32(12), ...op.mul, ...op.add, ...op.get(t[1]), ...op.get(t[3]), ...op.shuffle([2, 3, 6, 7]), ...op.store()],
  ];
  // The last cols % 4 columns of a block of 4 rows, as one 4x4 block whose loads run on into
  // the next row (so not for the last block of rows) and whose first cols % 4 rows are stored:
  // LeNet-5's dy (6 columns) spent 0.3 ms a step in the scalar loop.
  const tail: Code[] = [
    ...block.slice(0, 9),
    [...at(dst, op.get(c), op.get(r), op.get(ldd)), ...op.set(to)],
    [...op.get(to), ...op.get(t[0]), ...op.get(t[2]), ...op.shuffle([0, 1, 4, 5]), ...op.store()],
    ...[1, 2].map((j) =>
      op.block(
        [...op.get(cols), ...op.get(cols4), ...op.sub, ...op.i32(j), ...op.leS, ...op.brIf(0)],
        [...op.get(to), ...op.get(ldd), ...op.i32(4 * j), ...op.mul, ...op.add, ...op.get(t[j - 1]), ...op.get(t[j + 1]),
          ...op.shuffle(j === 1 ? [2, 3, 6, 7] : [0, 1, 4, 5]), ...op.store()],
      ),
    ),
  ];
  const body: Code = [
    ...op.get(rows), ...op.i32(-4), ...op.and32, ...op.set(rows4),
    ...op.get(cols), ...op.i32(-4), ...op.and32, ...op.set(cols4),
    ...op.get(cols), ...op.i32(2), ...op.shl, ...op.set(ldb),
    ...forLoop(r, op.i32(0), op.get(rows4), 4, [forLoop(c, op.i32(0), op.get(cols4), 4, block)]),
    // the last cols % 4 columns of the full row blocks (but the last one: its loads would run
    // past the source) in SIMD, then of that block, then the last rows % 4 rows
    // simdEnd = min(rows4, rows - 4); scalar rows from the first multiple of 4 at or past it
    ...op.get(rows), ...op.i32(4), ...op.sub, ...op.tee(simdEnd), ...op.get(rows4), ...op.get(simdEnd), ...op.get(rows4), ...op.ltS,
    ...op.select, ...op.set(simdEnd),
    ...forLoop(r, op.i32(0), op.get(simdEnd), 4, [
      op.block([...op.get(cols4), ...op.get(cols), ...op.geS, ...op.brIf(0)], [...op.get(cols4), ...op.set(c)], ...tail),
    ]),
    ...forLoop(r, [...op.get(r), ...op.i32(0), ...op.get(r), ...op.i32(0), ...op.gtS, ...op.select], op.get(rows4), 1, [
      forLoop(c, op.get(cols4), op.get(cols), 1, [one]),
    ]),
    ...forLoop(r, op.get(rows4), op.get(rows), 1, [forLoop(c, op.i32(0), op.get(cols), 1, [one])]),
  ];
  return { name: 'transpose2d', params: 5, results: [], locals: { i32: 8, v128: 8 }, body };
}

function sumPattern(): FunctionDef {
  const [x, acc, total, period] = [0, 1, 2, 3];
  const [i, j, src, dst] = [4, 5, 6, 7];
  const body: Code = forLoop(i, op.i32(0), op.get(total), 0, [
    [...op.get(x), ...op.get(i), ...op.i32(2), ...op.shl, ...op.add, ...op.set(src), ...op.get(acc), ...op.set(dst)],
    forLoop(j, op.i32(0), op.get(period), 4, [
      [...op.get(dst), ...op.get(dst), ...op.load(), ...op.get(src), ...op.load(), ...op.fadd, ...op.store()],
      [...op.get(dst), ...op.i32(16), ...op.add, ...op.set(dst), ...op.get(src), ...op.i32(16), ...op.add, ...op.set(src)],
    ]),
    [...op.get(i), ...op.get(period), ...op.add, ...op.set(i)],
  ]);
  return { name: 'sumPattern', params: 4, results: [], locals: { i32: 4 }, body };
}

function addPattern(): FunctionDef {
  const [x, pattern, out, total, period] = [0, 1, 2, 3, 4];
  const [i, j, src, pat, dst] = [5, 6, 7, 8, 9];
  const body: Code = forLoop(i, op.i32(0), op.get(total), 0, [
    [...op.get(i), ...op.i32(2), ...op.shl, ...op.tee(src), ...op.get(out), ...op.add, ...op.set(dst)],
    [...op.get(src), ...op.get(x), ...op.add, ...op.set(src), ...op.get(pattern), ...op.set(pat)],
    forLoop(j, op.i32(0), op.get(period), 4, [
      [...op.get(dst), ...op.get(src), ...op.load(), ...op.get(pat), ...op.load(), ...op.fadd, ...op.store()],
      [...op.get(dst), ...op.i32(16), ...op.add, ...op.set(dst), ...op.get(src), ...op.i32(16), ...op.add, ...op.set(src)],
      [...op.get(pat), ...op.i32(16), ...op.add, ...op.set(pat)],
    ]),
    [...op.get(i), ...op.get(period), ...op.add, ...op.set(i)],
  ]);
  return { name: 'addPattern', params: 5, results: [], locals: { i32: 5 }, body };
}

/**
 * A bias then an activation, as `addPattern` walks: ReLU (`ceiling` undefined) or ReLU6.
 * f32x4.max / min return NaN when either operand is NaN, as tfjs's Relu and PyTorch's.
 */
function addPatternClamped(kernelName: string, ceiling?: number): FunctionDef {
  return streamKernel(kernelName, { inputs: 1, patterns: 1, outputs: 1 }, (at) => {
    const relu = [...at.input(0), ...at.pattern(0), ...op.fadd, ...op.f32Const(0), ...op.splat, ...op.fmax];
    const value = ceiling === undefined ? relu : [...relu, ...op.f32Const(ceiling), ...op.splat, ...op.fmin];
    return [at.storeOutput(0, value)];
  });
}

/**
 * Switches for tests and benchmarks (internal): `simd: false` forces the JS loops;
 * `backpropInput` forces one of conv2d-backprop-input.ts's two methods, `backpropFilter` one
 * of conv2d-backprop-filter.ts's three (`direct` where the channels allow it); a small
 * `maxColumnFloats` forces its batch chunking; `fma: false` keeps the plain mul + add where
 * the runtime has relaxed SIMD; `parallel: false` keeps every kernel on the calling thread,
 * and `parallelMinMacs` is the size below which a filter gradient stays there (waking the
 * workers costs tens of microseconds; tests set 0 to split every case).
 */
export const tuning = {
  simd: true,
  backpropInput: 'auto' as 'auto' | 'gemm' | 'conv',
  backpropFilter: 'auto' as 'auto' | 'direct' | 'gemm' | 'conv',
  /**
   * `Conv2D`: `auto`, Winograd F(2x2, 3x3) where it fits (winograd.ts), else convkit's direct
   * convolution wherever it fits (conv2d.ts), else XNNPACK's; `direct` never takes Winograd;
   * `xnnpack` always XNNPACK.
   */
  conv: 'auto' as 'auto' | 'direct' | 'xnnpack',
  /** `BatchMatMul` of 4 or more rows: convkit's kernels (batch-mat-mul.ts), or XNNPACK's. */
  matMul: 'auto' as 'auto' | 'xnnpack',
  /**
   * Bytes of transformed input and products a chunk of Winograd tiles takes (winograd.ts): an
   * L2 cache. Against 256 KB, alternated in one process on 2 threads: ResNet-20's 32 -> 32
   * layer 7.1 vs 7.9 ms, 64 -> 64 5.6 vs 6.1, ResNet-18's 64 at 56x56, batch 1, 1.75 vs 2.3.
   */
  winogradChunkBytes: 1 << 20,
  /** Fewest input and output channels for which `auto` takes Winograd (winograd.ts). */
  winogradMinChannels: 16,
  /**
   * The same for the filter gradient, and its chunks' bytes (winograd.ts, `filterByWinograd`).
   * On 2 threads against the direct filter gradient, alternated in one process: ResNet-20's
   * 32 -> 32 at 16x16, batch 128, 5.4 vs 6.6 ms; its 16 -> 16 at 32x32, 7.1 vs 7.5 (so from
   * 32); 64 -> 64 at 56x56, batch 8, 11.4 vs 19.2.
   */
  winogradFilterMinChannels: 32,
  winogradFilterChunkBytes: 1 << 20,
  /** Largest filter-gradient sums (bytes, 16 planes of [C, K]) summed by groups of tiles. */
  winogradFilterGroupBytes: 1 << 18,
  /** Largest column buffer (floats) the GEMM input gradient allocates at once (32 MB). */
  maxColumnFloats: 1 << 23,
  /** Floats of patches per image chunk of the GEMM filter gradient (512 KB, half an L2). */
  filterChunkFloats: 1 << 17,
  /** Floats of dW one pass of the direct filter gradient adds into (1 MB, an L2). */
  directPassFloats: 1 << 18,
  /** Narrowest dy (Ow) for which `auto` picks the direct filter gradient. */
  directMinWidth: 8,
  fma: true,
  parallel: true,
  parallelMinMacs: 1 << 20,
  /** Floats from which a memory-bound pass (batch norm, bias add and sum, ReLU gradient) is split. */
  parallelMinFloats: 1 << 17,
  /** Microseconds the kernel threads poll for the next call before they sleep (kernel-workers.ts). */
  spinMicros: 2000,
};

/**
 * Whether this runtime validates relaxed SIMD's f32x4.relaxed_madd (Chrome 114+, Node 22+;
 * Node 20 with --experimental-wasm-relaxed-simd). On x86 with FMA3 and on ARM, V8 emits one
 * fused multiply-add for it.
 */
export function hasRelaxedSimdFma(): boolean {
  if (relaxedSimd === undefined) {
    const fn: FunctionDef = {
      name: 'f',
      params: 0,
      results: [],
      locals: { v128: 1 },
      body: [...op.get(0), ...op.get(0), ...op.get(0), ...op.relaxedMadd, ...op.set(0)],
    };
    try {
      relaxedSimd = typeof WebAssembly !== 'undefined' && WebAssembly.validate(assemble([fn], false) as Uint8Array<ArrayBuffer>);
    } catch {
      relaxedSimd = false;
    }
  }
  return relaxedSimd;
}
let relaxedSimd: boolean | undefined;

/** A module variant: undefined until compiled, null where it cannot be (no SIMD, invalid). */
interface Variant {
  bytes?: Uint8Array<ArrayBuffer> | null;
  compiled?: WebAssembly.Module | null;
  compiling?: boolean;
}
/**
 * Variants by memory (tfjs's plain build: unshared; threaded: shared) and by FMA (relaxed
 * SIMD where the runtime has it and `tuning.fma` allows).
 */
const variants = new Map<string, Variant>();
const instances = new WeakMap<WebAssembly.Memory, Map<string, SimdKernels>>();
/** Worker pools by heap, with the FMA variant their module was compiled as. */
const workerPools = new WeakMap<WebAssembly.Memory, { pool: KernelWorkers; fma: boolean }>();

interface VariantKey {
  shared: boolean;
  fma: boolean;
}

function variantKey(memory: WebAssembly.Memory | undefined): VariantKey {
  return {
    shared: memory !== undefined && isShared(memory),
    fma: tuning.fma && hasRelaxedSimdFma(),
  };
}

function variantOf(key: VariantKey): Variant {
  const id = `${key.shared}/${key.fma}`;
  let variant = variants.get(id);
  if (!variant) {
    variant = {};
    variants.set(id, variant);
  }
  return variant;
}

function moduleBytes(key: VariantKey): Uint8Array<ArrayBuffer> | null {
  const variant = variantOf(key);
  if (variant.bytes === undefined) {
    try {
      const assembled = assemble(
        [
          maxPoolGrad2x2(),
          maxPool2x2(),
          col2im(),
          im2colT(),
          gemmNT(key.fma),
          filterGradDirect(key.fma),
          filterGradPlanar(key.fma),
          convDirect(key.fma),
          packFilter(),
          padColumns(),
          zeroBytes(),
          winogradInput(),
          winogradOutput(),
          winogradFilter(),
          winogradProducts(key.fma),
          winogradDy(),
          winogradFilterGrad(),
          reluGrad(),
          relu(),
          depthwiseFilterGrad(),
          sumPattern(),
          addPattern(),
          addPatternClamped('addPatternRelu'),
          addPatternClamped('addPatternRelu6', 6),
          transpose2d(),
          ...batchNormKernels(),
        ],
        key.shared,
      ) as Uint8Array<ArrayBuffer>;
      variant.bytes = WebAssembly.validate(assembled) ? assembled : null;
    } catch {
      variant.bytes = null;
    }
  }
  return variant.bytes;
}

/**
 * Start compiling the module in the background (registerWasmTrainingKernels calls this). A
 * browser's main thread refuses to compile modules over 4 KB synchronously (this one is
 * larger); until the asynchronous compile lands, callers there use their JS loops. Node and
 * workers compile synchronously on first use anyway.
 */
export function prepareSimdKernels(backend: BackendWasm | undefined): void {
  const key = variantKey(backend && heapMemory(backend));
  const variant = variantOf(key);
  if (variant.compiled !== undefined || variant.compiling || typeof WebAssembly === 'undefined') {
    return;
  }
  const b = moduleBytes(key);
  if (!b) {
    variant.compiled = null;
    return;
  }
  variant.compiling = true;
  WebAssembly.compile(b).then(
    (m) => {
      if (variant.compiled === undefined) variant.compiled = m;
    },
    () => {
      if (variant.compiled === undefined) variant.compiled = null;
    },
  );
}

/** The compiled module for `memory`, compiling synchronously if needed (undefined: cannot). */
function compiledModule(key: VariantKey): WebAssembly.Module | undefined {
  const variant = variantOf(key);
  if (variant.compiled === undefined) {
    const b = moduleBytes(key);
    if (!b) {
      variant.compiled = null;
    } else {
      try {
        variant.compiled = new WebAssembly.Module(b);
      } catch {
        // Synchronous compilation refused (browser main thread): wait for prepareSimdKernels.
        return undefined;
      }
    }
  }
  return variant.compiled ?? undefined;
}

/** The SIMD kernels bound to `backend`'s heap, or undefined where they cannot run (yet). */
export function simdKernels(backend: BackendWasm): SimdKernels | undefined {
  if (!tuning.simd || typeof WebAssembly === 'undefined') return undefined;
  const memory = heapMemory(backend);
  if (!memory) return undefined;
  const key = variantKey(memory);
  const id = `${key.shared}/${key.fma}`;
  let byVariant = instances.get(memory);
  const cached = byVariant?.get(id);
  if (cached) return cached;
  const compiled = compiledModule(key);
  if (!compiled) return undefined;
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const kernels = instance.exports as unknown as SimdKernels;
  if (!byVariant) {
    byVariant = new Map();
    instances.set(memory, byVariant);
  }
  byVariant.set(id, kernels);
  return kernels;
}

/** Which relaxed-SIMD features the kernels on `backend` use. */
export function simdKernelFeatures(backend: BackendWasm): { fma: boolean } {
  return { fma: variantKey(heapMemory(backend)).fma };
}

/**
 * Start `threads - 1` workers that run the kernels over `backend`'s shared heap (Node, tfjs's
 * threaded build; see kernel-workers.ts), once per heap. Returns why they did not start, if
 * they did not.
 */
export async function startSimdKernelWorkers(
  backend: BackendWasm,
  workerThreads: typeof import('node:worker_threads'),
  threads: number,
): Promise<string | undefined> {
  const memory = heapMemory(backend);
  if (!memory || !isShared(memory)) return 'the wasm heap is not shared memory';
  const local = simdKernels(backend);
  const key = variantKey(memory);
  const compiled = compiledModule(key);
  if (!local || !compiled) return 'the SIMD kernels cannot run here';
  const running = workerPools.get(memory);
  if (running?.fma === key.fma && running.pool.threads === threads) return undefined;
  running?.pool.close();
  workerPools.delete(memory);
  try {
    const pool = await startKernelWorkers(
      workerThreads,
      compiled,
      memory,
      local as unknown as Record<string, unknown>,
      threads,
      () => tuning.spinMicros,
    );
    workerPools.set(memory, { pool, fma: key.fma });
    return undefined;
  } catch (error) {
    return `the kernel workers did not start: ${(error as Error).message}`;
  }
}

/**
 * The workers sharing `backend`'s heap, when started and allowed (`tuning.parallel`), and when
 * they run the same module variant as `simdKernels(backend)` (an FMA switch in a test makes
 * them differ: the caller then stays on one thread).
 */
export function simdKernelWorkers(backend: BackendWasm): KernelWorkers | undefined {
  if (!tuning.parallel) return undefined;
  const memory = heapMemory(backend);
  const entry = memory && workerPools.get(memory);
  if (!entry || entry.fma !== variantKey(memory).fma) return undefined;
  return entry.pool;
}

/** Each thread's share of kernel calls, run on every thread at once, or all here in order. */
export type KernelRunner = (shares: KernelCall[][]) => void;

/**
 * How to run a kernel step of `macs` multiply-adds on `backend`: on the kernel workers when
 * they are running and the step is large enough to pay for waking them, else on this thread.
 */
export function simdRunner(
  backend: BackendWasm,
  simd: SimdKernels,
  macs: number,
): { run: KernelRunner; threads: number } {
  return runnerOn(backend, simd, macs >= tuning.parallelMinMacs);
}

/**
 * As `simdRunner`, for one pass over `floats` floats, bound by memory rather than arithmetic:
 * split from `tuning.parallelMinFloats` (a ReLU gradient over LeNet-5's 300K floats, which
 * stayed on one thread under the multiply-add threshold).
 */
export function simdPassRunner(
  backend: BackendWasm,
  simd: SimdKernels,
  floats: number,
): { run: KernelRunner; threads: number } {
  return runnerOn(backend, simd, floats >= tuning.parallelMinFloats);
}

function runnerOn(
  backend: BackendWasm,
  simd: SimdKernels,
  parallel: boolean,
): { run: KernelRunner; threads: number } {
  const workers = parallel ? simdKernelWorkers(backend) : undefined;
  if (workers) return { run: (shares) => workers.run(shares), threads: workers.threads };
  const run: KernelRunner = (shares) => {
    for (const call of shares.flat()) {
      (simd[call.name as keyof SimdKernels] as (...args: number[]) => void)(...call.args);
    }
  };
  return { run, threads: 1 };
}

/**
 * tfjs's heap: the plain build's Emscripten module exports it (`asm.memory`); the threaded
 * build imports a shared one, which it keeps as `wasmMemory`.
 */
function heapMemory(backend: BackendWasm): WebAssembly.Memory | undefined {
  const module = (backend as unknown as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } })
    .wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** Byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: BackendWasm, dataId: object): number {
  return (backend as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } }).dataIdMap.get(dataId)
    .memoryOffset;
}
