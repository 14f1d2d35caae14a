// The machine's read bandwidth from memory: one and two threads sum a
// 154 MB array (a GPT-2-small output projection's size, far beyond the
// caches) with independent 512-bit accumulators; prints the best of 20
// passes in GB/s. A memory-bound kernel (a decode step's matrix-vector
// products) is measured against this.
//   cc -O3 -march=native -fopenmp read_bandwidth.c -o read_bandwidth
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  size_t bytes = (size_t)154 << 20, count = bytes / sizeof(float);
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
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = first; i + 64 <= last; i += 64) {
          s0 = _mm512_add_ps(s0, _mm512_load_ps(data + i));
          s1 = _mm512_add_ps(s1, _mm512_load_ps(data + i + 16));
          s2 = _mm512_add_ps(s2, _mm512_load_ps(data + i + 32));
          s3 = _mm512_add_ps(s3, _mm512_load_ps(data + i + 48));
        }
        total += _mm512_reduce_add_ps(
            _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
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
