// The machine's AMX peak (Sapphire Rapids and later): each thread runs
// tile dot products on register tiles that never touch memory, four
// accumulators (2 x 2 blocking, the other four tiles the operands), BF16
// (tdpbf16ps: 16 x 16 f32 sums of 32 products each, 16,384 FLOPs) and INT8
// (tdpbssd: 16 x 16 i32 sums of 64 products each, 32,768 OPs). Prints
// GFLOP/s and GOP/s for one thread and for all of them, beside
// fma_peak.c's vector peaks.
//   cc -O3 -march=native -pthread amx_peak.c -o amx_peak && ./amx_peak
// Linux hands a thread the tiles' state only once the process asks
// (arch_prctl ARCH_REQ_XCOMP_PERM); a CPU or kernel without AMX is a
// one-line error.
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

enum { ITERATIONS = 20000000 };

// Palette 1: eight tiles of 16 rows of 64 bytes.
struct TileConfig {
  uint8_t palette, startRow, reserved[14];
  uint16_t bytesPerRow[16];
  uint8_t rows[16];
};

static void configure(void) {
  struct TileConfig config;
  memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.bytesPerRow[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
}

// Configures the tiles, loads the operand tiles 4 to 7 from `operands`
// (16 rows of 64 bytes) and clears the accumulators 0 to 3.
static void prepare(const void *operands) {
  configure();
  _tile_loadd(4, operands, 64);
  _tile_loadd(5, operands, 64);
  _tile_loadd(6, operands, 64);
  _tile_loadd(7, operands, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

static void finish(void *out) {
  _tile_stored(0, out, 64);
  _tile_release();
}

// Operands small enough that no sum overflows: bf16 2^-10 (each sum
// reaches 2^-20 x 32 x ITERATIONS, about 610) and int8 ones (64 x
// ITERATIONS < 2^31).
static uint16_t bf16Operands[16 * 32];
static int8_t int8Operands[16 * 64];

static void *runBf16(void *out) {
  prepare(bf16Operands);
  for (long n = 0; n < ITERATIONS; ++n) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  finish(out);
  return NULL;
}

static void *runInt8(void *out) {
  prepare(int8Operands);
  for (long n = 0; n < ITERATIONS; ++n) {
    _tile_dpbssd(0, 4, 6);
    _tile_dpbssd(1, 4, 7);
    _tile_dpbssd(2, 5, 6);
    _tile_dpbssd(3, 5, 7);
  }
  finish(out);
  return NULL;
}

// Operations a second in billions, `opsPerProduct` a tile product's.
static double rate(void *(*run)(void *), int threads, double opsPerProduct) {
  pthread_t ids[256];
  static float sink[256][16 * 16];
  struct timespec start, stop;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int t = 0; t < threads; ++t)
    pthread_create(&ids[t], NULL, run, sink[t]);
  for (int t = 0; t < threads; ++t)
    pthread_join(ids[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &stop);
  double seconds =
      (stop.tv_sec - start.tv_sec) + 1e-9 * (stop.tv_nsec - start.tv_nsec);
  return opsPerProduct * 4.0 * ITERATIONS * threads / seconds / 1e9;
}

int main(void) {
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) {
    fprintf(stderr, "amx_peak: this CPU or kernel does not offer AMX tiles\n");
    return 1;
  }
  for (int i = 0; i < 16 * 32; ++i)
    bf16Operands[i] = 0x3a80;
  memset(int8Operands, 1, sizeof int8Operands);
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 256)
    cores = 256;
  rate(runBf16, 1, 16384); // warm up the clocks
  printf("amx bf16 peak (tdpbf16ps): 1 thread %.1f GFLOP/s, %d threads %.1f "
         "GFLOP/s\n",
         rate(runBf16, 1, 16384), cores, rate(runBf16, cores, 16384));
  printf("amx int8 peak (tdpbssd): 1 thread %.1f GOP/s, %d threads %.1f "
         "GOP/s\n",
         rate(runInt8, 1, 32768), cores, rate(runInt8, cores, 32768));
  return 0;
}
