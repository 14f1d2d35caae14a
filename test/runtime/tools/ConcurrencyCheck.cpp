//===- ConcurrencyCheck.cpp - one model, many threads ---------------------===//
//
//   kiln-runtime-concurrency MODEL.kiln [THREADS] [ITERATIONS]
//                            [SESSION_THREADS]
//
// Runs a model on a few different inputs from one thread with a
// one-thread session, then from THREADS threads at once (one session
// each, all sharing the loaded model, each session running its loops on
// SESSION_THREADS threads, 2 by default), each running ITERATIONS times
// over the inputs, and checks every result is bit-identical to the
// single-threaded one; between runs, sessions free their outputs early
// (kiln_session_release_outputs, once or twice) or leave them to the next
// run. Inputs are float32
// (symbolic dimensions set to 2) filled with a fixed pseudo-random
// sequence. Prints "OK: ..." or the first difference and exits 1.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

struct Case {
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<float>> data;
  std::vector<kiln_tensor_t> inputs;
};

Case makeCase(const kiln::Model &model, unsigned seed) {
  Case c;
  size_t count = model.inputCount();
  c.shapes.resize(count);
  c.data.resize(count);
  for (size_t i = 0; i < count; ++i) {
    kiln_tensor_info_t info = model.input(i);
    if (info.dtype != KILN_DTYPE_FLOAT32) {
      std::fprintf(stderr, "input '%s' is not float32\n", info.name);
      std::exit(2);
    }
    size_t elements = 1;
    for (int32_t d = 0; d < info.rank; ++d) {
      c.shapes[i].push_back(info.shape[d] < 0 ? 2 : info.shape[d]);
      elements *= size_t(c.shapes[i].back());
    }
    uint32_t state = seed * 2654435761u + uint32_t(i);
    for (size_t k = 0; k < elements; ++k) {
      state = state * 1664525u + 1013904223u;
      c.data[i].push_back(float(state >> 8) / float(1u << 24) - 0.5f);
    }
  }
  for (size_t i = 0; i < count; ++i)
    c.inputs.push_back({nullptr, KILN_DTYPE_FLOAT32,
                        int32_t(c.shapes[i].size()), c.shapes[i].data(),
                        c.data[i].data(), c.data[i].size() * sizeof(float)});
  return c;
}

std::vector<Bytes> runOnce(kiln::Session &session, const kiln::Model &model,
                           const Case &c) {
  std::vector<kiln_tensor_t> outputs(model.outputCount(), kiln_tensor_t{});
  session.run(c.inputs, outputs);
  std::vector<Bytes> results;
  for (const kiln_tensor_t &output : outputs) {
    const auto *bytes = static_cast<const uint8_t *>(output.data);
    results.emplace_back(bytes, bytes + output.byte_size);
  }
  return results;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.kiln [THREADS] [ITERATIONS]\n",
                 argv[0]);
    return 2;
  }
  int threads = argc > 2 ? std::atoi(argv[2]) : 8;
  int iterations = argc > 3 ? std::atoi(argv[3]) : 20;
  int sessionThreads = argc > 4 ? std::atoi(argv[4]) : 2;
  try {
    kiln::Model model = kiln::Model::load(argv[1]);
    std::vector<Case> cases;
    for (unsigned seed = 0; seed < 4; ++seed)
      cases.push_back(makeCase(model, seed));

    std::vector<std::vector<Bytes>> expected;
    {
      kiln::Session session(model, 1);
      for (const Case &c : cases)
        expected.push_back(runOnce(session, model, c));
    }

    std::atomic<int> mismatches{0}, errors{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        try {
          kiln::Session session(model, sessionThreads);
          for (int i = 0; i < iterations; ++i) {
            size_t which = size_t(t + i) % cases.size();
            if (runOnce(session, model, cases[which]) != expected[which])
              ++mismatches;
            for (int release = 0; release < i % 3; ++release)
              session.releaseOutputs();
          }
        } catch (const kiln::Error &error) {
          std::fprintf(stderr, "thread %d: %s\n", t, error.what());
          ++errors;
        }
      });
    for (std::thread &worker : workers)
      worker.join();
    if (mismatches || errors) {
      std::printf("FAILED: %d of %d runs differ from the single-threaded "
                  "results, %d threads failed\n",
                  mismatches.load(), threads * iterations, errors.load());
      return 1;
    }
    std::printf("OK: %d threads x %d runs (sessions of %d threads) match the "
                "single-threaded results\n",
                threads, iterations, sessionThreads);
    return 0;
  } catch (const kiln::Error &error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
