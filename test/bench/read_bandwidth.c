// The machine's read bandwidth from memory: one and two threads sum a
// 1 GiB array with independent vector accumulators (512-bit where the CPU
// has AVX-512, else 256-bit); prints the best of 20 passes in GB/s. A
// memory-bound kernel (a decode step's matrix-vector products) is
// measured against this. 1 GiB is more than a decode step's 536 MB of
// SmolLM2 FP32 weights and far beyond the caches: the 154 MB this read
// before fit in a cloud Xeon's 260 MB L3 (31.5 GB/s on two threads where
// 1 GiB read 26.9).
//   cc -O3 -march=native -fopenmp read_bandwidth.c -o read_bandwidth
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __AVX512F__
typedef __m512 vec;
#define LANES 16
#define ZERO _mm512_setzero_ps
#define ADD _mm512_add_ps
#define LOAD _mm512_load_ps
static float sum_lanes(vec v) { return _mm512_reduce_add_ps(v); }
#else
typedef __m256 vec;
#define LANES 8
#define ZERO _mm256_setzero_ps
#define ADD _mm256_add_ps
#define LOAD _mm256_load_ps
static float sum_lanes(vec v) {
  float lanes[8];
  _mm256_storeu_ps(lanes, v);
  float total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  size_t bytes = (size_t)1 << 30, count = bytes / sizeof(float);
  float *data = aligned_alloc(64, bytes);
  memset(data, 0, bytes);
  int most = omp_get_num_procs() < 2 ? 1 : 2;
  for (int threads = 1; threads <= most; ++threads) {
    double best = 1e9;
    float sink = 0;
    for (int pass = 0; pass < 20; ++pass) {
      double start = now();
      float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
      {
        int id = omp_get_thread_num(), team = omp_get_num_threads();
        size_t first = count * id / team, last = count * (id + 1) / team;
        vec s0 = ZERO(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = first; i + 4 * LANES <= last; i += 4 * LANES) {
          s0 = ADD(s0, LOAD(data + i));
          s1 = ADD(s1, LOAD(data + i + LANES));
          s2 = ADD(s2, LOAD(data + i + 2 * LANES));
          s3 = ADD(s3, LOAD(data + i + 3 * LANES));
        }
        total += sum_lanes(ADD(ADD(s0, s1), ADD(s2, s3)));
      }
      double seconds = now() - start;
      if (seconds < best)
        best = seconds;
      sink += total;
    }
    printf("%d thread%s: %.1f GB/s%s\n", threads, threads > 1 ? "s" : "",
           bytes / best / 1e9, sink == 1.0f ? " " : "");
  }
  free(data);
  return 0;
}
