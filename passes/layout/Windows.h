//===- Windows.h - the NHWC window arithmetic of the layout passes -*- C++ -*-===//
//
// The convolutions and pools the layout passes rewrite slide a window over
// an NHWC image whose batch, height and width may be symbolic.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_LAYOUT_WINDOWS_H
#define KILN_PASSES_LAYOUT_WINDOWS_H

#include "mlir/IR/Builders.h"

namespace mlir::kiln {

/// An empty f32 NHWC result of `outputShape` for a window of `kernel`
/// (KH, KW) sliding over the NHWC `input` with `pads` (top, left, bottom,
/// right; none when empty): its symbolic extents are the input's batch and
/// (padded - window) / stride + 1, never negative.
Value emptyWindowResult(OpBuilder &builder, Location loc, Value input,
                        ArrayRef<int64_t> outputShape,
                        ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads);

} // namespace mlir::kiln

#endif // KILN_PASSES_LAYOUT_WINDOWS_H
