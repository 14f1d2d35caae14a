//===- Device.cpp - the --device option of `kiln run` and `kiln bench` ----===//

#include "compiler/driver/Commands.h"

#include "kiln/runtime.h"

namespace cl = llvm::cl;

static_assert(int(mlir::kiln::DeviceChoice::Cpu) == KILN_DEVICE_CPU &&
              int(mlir::kiln::DeviceChoice::Cuda) == KILN_DEVICE_CUDA &&
              int(mlir::kiln::DeviceChoice::CudaEmulator) ==
                  KILN_DEVICE_CUDA_EMULATOR);

cl::ValuesClass mlir::kiln::deviceValues() {
  return cl::values(
      clEnumValN(DeviceChoice::Cpu, "cpu", "the CPU (CPU packages)"),
      clEnumValN(DeviceChoice::Cuda, "cuda",
                 "the first CUDA GPU (CUDA packages; the default for them)"),
      clEnumValN(DeviceChoice::CudaEmulator, "cuda-emu",
                 "a CUDA package's kernels on the CPU, through Kiln's SIMT "
                 "emulator"));
}
