//===- CpuFeatures.h - what the running CPU supports ------------*- C++ -*-===//

#ifndef KILN_RUNTIME_CPUFEATURES_H
#define KILN_RUNTIME_CPUFEATURES_H

#include <string>
#include <vector>

namespace kiln::runtime {

/// Whether this machine (CPU and operating system) supports the extension
/// named as LLVM names it ("avx2", "avx512f", ...). Unknown names are
/// reported as unsupported.
bool cpuSupports(const std::string &feature);

/// The features of `required` this machine lacks.
std::vector<std::string>
missingCpuFeatures(const std::vector<std::string> &required);

} // namespace kiln::runtime

#endif // KILN_RUNTIME_CPUFEATURES_H
