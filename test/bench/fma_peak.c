// The machine's FP32 FMA peak: each thread runs independent vector FMA
// chains that never touch memory, enough of them to cover the FMA latency
// on every port. Prints GFLOP/s for one thread and for all of them.
//   cc -O3 -march=native -pthread fma_peak.c -o fma_peak && ./fma_peak
// With -DBF16 (on a CPU with AVX512_BF16), the chains are vdpbf16ps: the
// BF16 peak, four FLOPs per lane (two products, two sums). With -DINT8,
// the chains are what Kiln's INT8 kernels issue per vector of u8 x s8
// products: vpdpbusd where the CPU has VNNI (-mavx512vnni or -mavxvnni
// with -march=native), otherwise vpmaddubsw, vpmaddwd by ones and vpaddd
// (AVX2); eight operations per 32-bit lane (four products, four sums),
// printed as GOP/s.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(INT8) && defined(__AVX512VNNI__) && defined(__AVX512F__)
typedef __m512i vec;
#define LANES 16
#define SET1(x) _mm512_set1_epi32((int)(x))
#define FMA _mm512_dpbusd_epi32
#define ADD _mm512_add_epi32
#define STORE(out, v) _mm512_storeu_si512((void *)(out), v)
#define OPS_PER_LANE 8
#elif defined(INT8) && defined(__AVXVNNI__)
typedef __m256i vec;
#define LANES 8
#define SET1(x) _mm256_set1_epi32((int)(x))
#define FMA _mm256_dpbusd_avx_epi32
#define ADD _mm256_add_epi32
#define STORE(out, v) _mm256_storeu_si256((__m256i *)(out), v)
#define OPS_PER_LANE 8
#elif defined(INT8)
typedef __m256i vec;
#define LANES 8
#define SET1(x) _mm256_set1_epi32((int)(x))
#define FMA(acc, a, b)                                                         \
  _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b),         \
                                          _mm256_set1_epi16(1)))
// The products' operand moves on each iteration (one vpaddb for all the
// chains), or the compiler would hoist them out of the loop, and each
// chain has its own other operand, or it would compute them once.
#define NEXT(a) _mm256_add_epi8(a, _mm256_set1_epi8(1))
#define OPERAND(i) bs[i]
#define ADD _mm256_add_epi32
#define STORE(out, v) _mm256_storeu_si256((__m256i *)(out), v)
#define OPS_PER_LANE 8
// Sixteen registers: twelve chains and their temporaries.
#define CHAIN_COUNT 12
#elif defined(BF16)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA(acc, a, b) _mm512_dpbf16_ps(acc, (__m512bh)(a), (__m512bh)(b))
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#define FLOPS_PER_LANE 4
#elif defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#endif

#ifndef FLOPS_PER_LANE
#define FLOPS_PER_LANE 2
#endif
#ifdef OPS_PER_LANE
#undef FLOPS_PER_LANE
#define FLOPS_PER_LANE OPS_PER_LANE
#endif

// 24 chains (the microkernels' accumulators): vdpbf16ps needs more than
// twelve in flight; FMA reaches the same peak with either.
#ifndef NEXT
#define NEXT(a) (a)
#ifdef OPS_PER_LANE
// vpdpbusd: each chain its own operand, twelve chains (with their operands
// 24 registers: more would spill).
#define OPERAND(i) bs[i]
#define CHAIN_COUNT 12
#else
#define OPERAND(i) b
#endif
#endif
#ifndef CHAIN_COUNT
#define CHAIN_COUNT 24
#endif
enum { CHAINS = CHAIN_COUNT, ITERATIONS = 200000000 / CHAINS };

static void *run(void *out) {
  vec acc[CHAINS];
#ifdef OPS_PER_LANE
  vec a = SET1(0x01010101), bs[CHAINS];
  for (int i = 0; i < CHAINS; ++i)
    bs[i] = SET1(0x01010101 * (i + 1));
#else
  vec a = SET1(0.999999f), b = SET1(1e-7f);
#endif
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = SET1((float)i);
  for (long n = 0; n < ITERATIONS; ++n) {
    // Unrolled, so that every chain lives in a register.
#pragma GCC unroll 32
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = FMA(acc[i], a, OPERAND(i));
    a = NEXT(a);
  }
  vec sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = ADD(sum, acc[i]);
  STORE((float *)out, sum);
  return NULL;
}

static double gflops(int threads) {
  pthread_t ids[256];
  static float sink[256][LANES];
  struct timespec start, stop;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int t = 0; t < threads; ++t)
    pthread_create(&ids[t], NULL, run, sink[t]);
  for (int t = 0; t < threads; ++t)
    pthread_join(ids[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &stop);
  double seconds = (stop.tv_sec - start.tv_sec) + 1e-9 * (stop.tv_nsec - start.tv_nsec);
  return FLOPS_PER_LANE * (double)LANES * CHAINS * (double)ITERATIONS * threads / seconds / 1e9;
}

int main(void) {
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 256)
    cores = 256;
  gflops(1); // warm up the clocks
#ifdef OPS_PER_LANE
  const char *kind = "int8 dot-product", *unit = "GOP/s";
#else
  const char *kind = FLOPS_PER_LANE == 4 ? "bf16 dot-product" : "fp32 FMA";
  const char *unit = "GFLOP/s";
#endif
  printf("%s peak (%d-bit vectors): 1 thread %.1f %s, %d threads %.1f %s\n",
         kind, LANES * 32, gflops(1), unit, cores, gflops(cores), unit);
  return 0;
}
