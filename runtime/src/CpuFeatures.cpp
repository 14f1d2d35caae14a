//===- CpuFeatures.cpp - what the running CPU supports --------------------===//
//
// Read from CPUID, and for AVX and AVX-512 also from XGETBV: the operating
// system must save the wider registers too.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/CpuFeatures.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace kiln::runtime;

namespace {

struct Registers {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

struct X86Features {
  Registers leaf1, leaf7, leaf7sub1;
  bool avxState = false, avx512State = false;

  X86Features() {
#if defined(__x86_64__)
    unsigned maxLeaf = __get_cpuid_max(0, nullptr);
    if (maxLeaf >= 1)
      __cpuid_count(1, 0, leaf1.eax, leaf1.ebx, leaf1.ecx, leaf1.edx);
    if (maxLeaf >= 7) {
      __cpuid_count(7, 0, leaf7.eax, leaf7.ebx, leaf7.ecx, leaf7.edx);
      __cpuid_count(7, 1, leaf7sub1.eax, leaf7sub1.ebx, leaf7sub1.ecx,
                    leaf7sub1.edx);
    }
    bool osxsave = leaf1.ecx & (1u << 27);
    if (osxsave) {
      uint32_t low, high;
      __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
      avxState = (low & 0x6) == 0x6;
      avx512State = avxState && (low & 0xE0) == 0xE0;
    }
#endif
  }

  static bool bit(uint32_t word, int index) { return word & (1u << index); }

  bool supports(const std::string &name) const {
    if (name == "sse4.2")
      return bit(leaf1.ecx, 20);
    if (name == "avx")
      return avxState && bit(leaf1.ecx, 28);
    if (name == "fma")
      return avxState && bit(leaf1.ecx, 12);
    if (name == "f16c")
      return avxState && bit(leaf1.ecx, 29);
    if (name == "avx2")
      return avxState && bit(leaf7.ebx, 5);
    if (name == "bmi2")
      return bit(leaf7.ebx, 8);
    if (name == "avxvnni")
      return avxState && bit(leaf7sub1.eax, 4);
    if (!avx512State)
      return false;
    if (name == "avx512f")
      return bit(leaf7.ebx, 16);
    if (name == "avx512dq")
      return bit(leaf7.ebx, 17);
    if (name == "avx512bw")
      return bit(leaf7.ebx, 30);
    if (name == "avx512vl")
      return bit(leaf7.ebx, 31);
    if (name == "avx512vnni")
      return bit(leaf7.ecx, 11);
    if (name == "avx512fp16")
      return bit(leaf7.edx, 23);
    if (name == "avx512bf16")
      return bit(leaf7sub1.eax, 5);
    return false;
  }
};

} // namespace

bool kiln::runtime::cpuSupports(const std::string &feature) {
  static const X86Features features;
  return features.supports(feature);
}

std::vector<std::string>
kiln::runtime::missingCpuFeatures(const std::vector<std::string> &required) {
  std::vector<std::string> missing;
  for (const std::string &feature : required)
    if (!cpuSupports(feature))
      missing.push_back(feature);
  return missing;
}
