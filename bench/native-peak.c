// One roofline worker: this machine's native f32 peak on one thread, for comparison with the
// WebAssembly SIMD peak (wasm-peak.mjs). Compiled at run time by roofline.mjs with
// `gcc -O2 -march=native -ffp-contract=off`; the twelve chains are named
// variables so they live in registers (no contraction of the mul+add chains into FMA).
// Twelve independent chains per kind, as in wasm-peak.mjs:
//   sse_mul_add:  acc = acc * m + a on 128-bit vectors (what WASM SIMD code can use, no FMA)
//   avx2_fma:     acc = fma(acc, m, a) on 256-bit vectors
//   avx512_fma:   acc = fma(acc, m, a) on 512-bit vectors (when the CPU has AVX-512F)
// Each figure is the best of many samples of about 2 ms (shorter than a scheduler time slice,
// so that on a busy machine some samples run undisturbed). Prints one JSON line of GFLOP/s.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define PEAK(NAME, TYPE, LANES, SET1, STEP, SUM)                                   \
  __attribute__((noinline)) static float NAME##_run(long iterations) {             \
    const TYPE m = SET1(0.5f), a = SET1(1.0f);                                     \
    TYPE c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4),      \
         c5 = SET1(5), c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9),      \
         c10 = SET1(10), c11 = SET1(11);                                           \
    for (long n = 0; n < iterations; n++) {                                        \
      c0 = STEP(c0, m, a); c1 = STEP(c1, m, a); c2 = STEP(c2, m, a);               \
      c3 = STEP(c3, m, a); c4 = STEP(c4, m, a); c5 = STEP(c5, m, a);               \
      c6 = STEP(c6, m, a); c7 = STEP(c7, m, a); c8 = STEP(c8, m, a);               \
      c9 = STEP(c9, m, a); c10 = STEP(c10, m, a); c11 = STEP(c11, m, a);           \
    }                                                                              \
    TYPE s = SUM(SUM(SUM(c0, c1), SUM(c2, c3)), SUM(SUM(c4, c5), SUM(c6, c7)));    \
    s = SUM(s, SUM(SUM(c8, c9), SUM(c10, c11)));                                   \
    float out[LANES];                                                              \
    __builtin_memcpy(out, &s, sizeof out);                                         \
    return out[0];                                                                 \
  }                                                                                \
  static double NAME(double seconds) {                                             \
    long iterations = 1 << 16;                                                     \
    double best = 0, end = now() + seconds;                                        \
    volatile float sink = 0;                                                       \
    while (now() < end) {                                                          \
      double start = now();                                                        \
      sink += NAME##_run(iterations);                                              \
      double s = now() - start;                                                    \
      if (s < 0.002) { iterations *= 2; continue; }                                \
      double g = (double)iterations * CHAINS * LANES * 2 / s / 1e9;                \
      if (g > best) best = g;                                                      \
    }                                                                              \
    return best;                                                                   \
  }

#define SSE_STEP(x, m, a) _mm_add_ps(_mm_mul_ps(x, m), a)
PEAK(sse_mul_add, __m128, 4, _mm_set1_ps, SSE_STEP, _mm_add_ps)
#define AVX2_STEP(x, m, a) _mm256_fmadd_ps(x, m, a)
PEAK(avx2_fma, __m256, 8, _mm256_set1_ps, AVX2_STEP, _mm256_add_ps)
#ifdef __AVX512F__
#define AVX512_STEP(x, m, a) _mm512_fmadd_ps(x, m, a)
PEAK(avx512_fma, __m512, 16, _mm512_set1_ps, AVX512_STEP, _mm512_add_ps)
#endif

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  printf("{\"sseMulAddGflops\":%.2f,\"avx2FmaGflops\":%.2f", sse_mul_add(seconds), avx2_fma(seconds));
#ifdef __AVX512F__
  printf(",\"avx512FmaGflops\":%.2f", avx512_fma(seconds));
#endif
  printf("}\n");
  return 0;
}
