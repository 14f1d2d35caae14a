//===- HostProgram.h - the host steps of a CUDA program ---------*- C++ -*-===//
//
// A model whose sizes are known only at run time cannot have its grids and
// buffer sizes fixed at compile time. Its CUDA program then carries host
// steps (package::CudaHostStep): integer arithmetic on the inputs'
// dimensions into 64-bit slots, allocations, and launches whose grids and
// arguments are slots. HostProgram builds them, folding what is constant.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CUDA_HOSTPROGRAM_H
#define KILN_CODEGEN_CUDA_HOSTPROGRAM_H

#include "runtime/format/PackageFormat.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace mlir::kiln::cuda {

using HostArith = ::kiln::package::CudaHostArith;

class HostProgram {
public:
  /// Slot 0 holds the weights, slot 1 the workspace, 2 + i input i.
  explicit HostProgram(unsigned inputs) : slotCount(2 + inputs) {}

  static constexpr uint32_t kWeightsSlot = 0;
  static constexpr uint32_t kWorkspaceSlot = 1;
  static uint32_t inputSlot(unsigned input) { return 2 + input; }

  uint32_t constant(int64_t value);
  uint32_t inputDim(unsigned input, int64_t axis);
  /// `a op b` on `bits`-wide integers; folded when both are constants and
  /// the operation is a size's (add, sub, mul, ceildiv, max, min).
  uint32_t arith(HostArith op, uint32_t a, uint32_t b, unsigned bits = 64);
  uint32_t select(uint32_t condition, uint32_t a, uint32_t b);
  uint32_t alloc(uint32_t bytes);
  void free(uint32_t pointer);
  uint32_t allocOutput(unsigned output, uint32_t bytes);
  void outputShape(unsigned output, llvm::ArrayRef<uint32_t> dims);
  void launch(unsigned kernel, llvm::ArrayRef<uint32_t> grid,
              llvm::ArrayRef<uint32_t> arguments);
  /// The signed integer of `bytes` bytes at `byteOffset` of the device
  /// buffer `pointer`, read when the kernels launched before are done
  /// (never folded nor shared: the kernels may write it again).
  uint32_t load(uint32_t pointer, uint32_t byteOffset, unsigned bytes);

  /// The steps as comment lines for the CUDA source, one per step
  /// (`kernelNames` names the launched kernels).
  std::vector<std::string>
  describe(llvm::ArrayRef<std::string> kernelNames) const;

  /// The slot's value when it is known at compile time.
  std::optional<int64_t> constantOf(uint32_t slot) const;

  uint32_t slotCount;
  std::vector<::kiln::package::CudaHostStep> steps;

private:
  uint32_t step(::kiln::package::CudaHostOp op, uint32_t code, int64_t value,
                std::vector<uint32_t> operands, bool hasResult = true);
  std::map<int64_t, uint32_t> constants;
  std::map<std::pair<unsigned, int64_t>, uint32_t> inputDims;
  /// Arithmetic already computed, by (operation, operands, bits).
  std::map<std::tuple<uint32_t, uint32_t, uint32_t, unsigned>, uint32_t>
      computed;
  llvm::DenseMap<uint32_t, int64_t> constantSlots;
};

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_HOSTPROGRAM_H
