// One roofline worker: this machine's WebAssembly SIMD f32 peak on one thread, measured with a
// tiny module assembled here at run time (as @convkit/backend assembles its SIMD kernels):
// 12 independent chains acc = acc * m + a of f32x4.mul then f32x4.add (no FMA: plain WASM SIMD
// has none), enough chains to cover the latency of both ops. With relaxed SIMD (Node 20: the
// flag --experimental-wasm-relaxed-simd), the same chains as f32x4.relaxed_madd are measured
// too. Best of many ~2 ms samples (see native-peak.c). Prints one JSON line. Run by roofline.mjs.
const seconds = Number(process.env.BENCH_SECONDS ?? 1);
const CHAINS = 12;
const STEPS = 4; // chain steps per loop iteration (unrolled)

const uleb = (value) => {
  const out = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
const section = (id, body) => [id, ...uleb(body.length), ...body];
const simd = (op) => [0xfd, ...uleb(op)];
const f32 = (v) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const SPLAT = simd(0x13);
const MUL = simd(0xe6);
const ADD = simd(0xe4);
const RELAXED_MADD = simd(0x105); // f32x4.relaxed_madd: a * b + c, fused where the CPU can

/** `peak(iterations) -> f32`: local 0 the count, 1..12 the chains, 13 m, 14 a. */
function peakModule(fused) {
  const m = CHAINS + 1;
  const a = CHAINS + 2;
  const body = [...f32(0.5), ...SPLAT, ...set(m), ...f32(1), ...SPLAT, ...set(a)];
  for (let i = 1; i <= CHAINS; i++) body.push(...f32(i), ...SPLAT, ...set(i));
  const loop = [];
  for (let s = 0; s < STEPS; s++) {
    for (let i = 1; i <= CHAINS; i++) {
      loop.push(...get(i), ...get(m));
      loop.push(...(fused ? [...get(a), ...RELAXED_MADD] : [...MUL, ...get(a), ...ADD]));
      loop.push(...set(i));
    }
  }
  // count -= 1; continue while count != 0
  loop.push(...get(0), 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00);
  body.push(0x03, 0x40, ...loop, 0x0b);
  body.push(...get(1));
  for (let i = 2; i <= CHAINS; i++) body.push(...get(i), ...ADD);
  body.push(...simd(0x1f), 0x00); // f32x4.extract_lane 0
  const code = [...[1, ...uleb(CHAINS + 2), 0x7b], ...body, 0x0b];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, 4, ...new TextEncoder().encode('peak'), 0x00, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

/** GFLOP/s of the chains: 8 flops (4 lanes, a multiply and an add) per chain step. */
function measure(bytes) {
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const flopsPerIteration = CHAINS * STEPS * 8;
  let iterations = 1 << 16;
  // Warm up until the optimizing tier runs it (wasm tiers up between calls, not inside one).
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) peak(iterations);
  let best = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const start = performance.now();
    const sink = peak(iterations);
    const ms = performance.now() - start;
    if (!Number.isFinite(sink)) throw new Error('wasm-peak: the chains diverged');
    if (ms < 2) iterations *= 2;
    else best = Math.max(best, (iterations * flopsPerIteration) / (ms / 1000) / 1e9);
  }
  return best;
}

const result = { simdMulAddGflops: measure(peakModule(false)) };
const relaxed = peakModule(true);
result.relaxedSimd = WebAssembly.validate(relaxed);
if (result.relaxedSimd) result.relaxedMaddGflops = measure(relaxed);
console.log(JSON.stringify(result));
