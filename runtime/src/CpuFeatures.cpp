//===- CpuFeatures.cpp - what the running CPU supports --------------------===//
//
// Read from CPUID, and for AVX, AVX-512 and AMX also from XGETBV: the
// operating system must save the wider registers too. Linux also wants a
// process to ask before it uses AMX's tile data (arch_prctl), which the
// first question about AMX does, once.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/CpuFeatures.h"

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace kiln::runtime;

namespace {

struct Registers {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

struct X86Features {
  Registers leaf1, leaf7, leaf7sub1;
  bool avxState = false, avx512State = false, amxState = false;

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
      // XTILECFG and XTILEDATA.
      amxState = (low & 0x60000) == 0x60000;
    }
#endif
  }

  static bool bit(uint32_t word, int index) { return word & (1u << index); }

  /// Whether the tiles may be used: the CPU has them, the operating system
  /// saves them, and (Linux) it granted this process their data.
  bool amxUsable() const {
    static const bool granted = [&] {
      if (!amxState || !bit(leaf7.edx, 24))
        return false;
#if defined(__x86_64__) && defined(__linux__)
      constexpr int kRequestPermission = 0x1023; // ARCH_REQ_XCOMP_PERM
      constexpr int kTileData = 18;              // XFEATURE_XTILEDATA
      return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
#else
      return false;
#endif
    }();
    return granted;
  }

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
    if (name == "amx-tile")
      return amxUsable();
    if (name == "amx-bf16")
      return amxUsable() && bit(leaf7.edx, 22);
    if (name == "amx-int8")
      return amxUsable() && bit(leaf7.edx, 25);
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
