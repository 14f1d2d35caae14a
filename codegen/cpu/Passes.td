//===- Passes.td - lowering bufferized kernels for the CPU --*- tablegen -*-===//

#ifndef KILN_CODEGEN_CPU_PASSES
#define KILN_CODEGEN_CPU_PASSES

include "mlir/Pass/PassBase.td"

def CpuOrderLoopsPass : Pass<"kiln-cpu-order-loops", "func::FuncOp"> {
  let summary = "Put each reduction's contiguous output loop innermost; flatten elementwise loops";
  let description = [{
    Runs on linalg.generic ops (named ops generalized first). For an op
    with reduction loops whose output's last index is a parallel loop, that
    loop moves innermost, after the reductions; the other parallel loops
    stay outermost. The innermost loop then walks the output (and, for
    matmul and stride-1 convolution, an input) contiguously, which LLVM's
    loop vectorizer turns into vector code; each output element still sums
    its terms in the original order, so results do not change. An
    elementwise op (every loop parallel, every map the identity) over
    static, contiguous buffers is collapsed into one loop over all the
    elements: a channels-last innermost dimension can be too short for
    the vectorizer.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CpuSelectParallelLoopsPass
    : Pass<"kiln-cpu-select-parallel-loops", "func::FuncOp"> {
  let summary = "Keep scf.parallel only where threads pay off";
  let description = [{
    Runs on the loops of the bufferized kernels
    (`convert-linalg-to-parallel-loops`). A top-level `scf.parallel`
    without reductions whose loop nest runs at least `min-work` innermost
    iterations stays parallel and later becomes an OpenMP worksharing loop
    run on the session's threads. When its own trip counts are symbolic,
    the count is made at run time (the loops inside counting their static
    iterations, or one when theirs are symbolic too) and an `scf.if` picks
    the parallel nest or a serial copy of it. Every other `scf.parallel` (nested, small, or
    reducing) becomes a nest of `scf.for`. A parallel loop of several
    dimensions whose body has no loops (an elementwise nest) keeps its
    innermost dimension as an `scf.for` inside the others when they have
    at least 8 iterations: the OpenMP lowering collapses the parallel
    dimensions into one index, and the contiguous innermost loop is what
    LLVM vectorizes.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "65536",
           "Innermost iterations a loop nest needs to run in parallel">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def CpuOutlineKernelsPass : Pass<"kiln-cpu-outline-kernels", "ModuleOp"> {
  let summary = "Each top-level loop nest of the model function in a function of its own";
  let description = [{
    Every top-level op of the model function with regions and no results
    (a kernel's loop nest, or the `scf.if` choosing its parallel or serial
    copy) moves into a private function (`@main_kernel_N`), called once
    where the nest was and marked `noinline` (LLVM's `passthrough`): LLVM's
    code generation takes time worse than linear in a function's size, and
    one function holding an LLM's thousands of nests took minutes.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect"];
}

def CpuPrepareEntryPointPass
    : Pass<"kiln-cpu-prepare-entry-point", "ModuleOp"> {
  let summary = "Rename @main and ask for its C interface";
  let description = [{
    Renames the model's function `@main` to `@kiln_model` (so the object
    never defines `main`), drops its argument and result attributes (the
    ONNX names live in the package's manifest) and marks it
    `llvm.emit_c_interface`, so its lowering passes every memref as a
    pointer to its descriptor. Runs on the bufferized module, before the
    lowering to LLVM.
  }];
}

def CpuPackEntryPointPass : Pass<"kiln-cpu-pack-entry-point", "ModuleOp"> {
  let summary = "Add the packed entry point `kiln_entry(void **args)`";
  let description = [{
    Runs on the LLVM dialect. Adds `kiln_entry`, which takes one pointer
    to an array of pointers, loads each and calls
    `_mlir_ciface_kiln_model` with them: `args[0]` points at the results'
    memref descriptors, then the weights descriptor, the workspace
    descriptor, then one descriptor per model input. It is the only externally visible symbol; everything
    else becomes internal.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CpuLowerDepthwiseConvPass
    : Pass<"kiln-cpu-lower-depthwise-conv", "func::FuncOp"> {
  let summary = "Vector loops for kiln.depthwise_conv2d and kiln.max_pool2d";
  let description = [{
    Lowers the memref form of `kiln.depthwise_conv2d` to loops over vectors
    of channels (`vector-bits` wide): each output row is a task for the
    session's threads; along it, blocks of eight pixels (or of five to
    seven when that size divides the row) keep one
    accumulator each per vector of channels, and every tap loads its filter
    vector once for the block. Channels past the last full vector are
    handled with masked loads and stores, pixels past the last full block
    one at a time. The epilogue applies the activation. `kiln.max_pool2d`
    is the same loop nest with a maximum for the multiply-add, starting
    from negative infinity, which its padding reads too.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the vector registers (512: AVX-512, 256: AVX2)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def CpuLowerRowKernelsPass
    : Pass<"kiln-cpu-lower-row-kernels", "func::FuncOp"> {
  let summary = "Vector loops for kiln.layer_norm and kiln.softmax";
  let description = [{
    Lowers the memref forms of `kiln.layer_norm` and `kiln.softmax`: the
    rows of the innermost dimension are split among the session's threads,
    and each row is swept with `vector-bits` vectors (a masked vector for
    its tail) while it stays in cache — mean, variance and the normalized
    row for layer normalization; maximum, exponentials with their sum, and
    the scaling for softmax.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the vector registers (512: AVX-512, 256: AVX2)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def CpuLowerResizeLinearPass
    : Pass<"kiln-cpu-lower-resize-linear", "func::FuncOp"> {
  let summary = "Loops for kiln.resize_linear";
  let description = [{
    Lowers the memref form of `kiln.resize_linear`: the output rows of
    every plane are split among the session's threads; each row reads its
    two source rows and weight once, and each element its two source
    columns and weight from the tables, then blends four values.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def CpuLowerPackedConvPass
    : Pass<"kiln-cpu-lower-packed-conv", "func::FuncOp"> {
  let summary = "Register-blocked microkernels for kiln.packed_conv2d";
  let description = [{
    Lowers the memref form of `kiln.packed_conv2d` to a register-blocked
    loop nest on vectors of `vector-bits`: the output pixels (n, y, x)
    form the M dimension and the filters the N dimension, tiled M0 x F0.
    Each tile keeps M0 * F0 / lanes accumulators in registers; per input
    channel it loads the tile's F0 packed filter values (F0 / lanes vector
    loads) and broadcasts one input value per pixel into a fused
    multiply-add with each. M0 fills the register file: 24 accumulators of
    32 registers with AVX-512, 12 of 16 with AVX2. The tiles (filter tiles
    outer, pixel tiles inner, so that consecutive tiles share a filter
    panel) are one `scf.parallel` loop that the session's threads split;
    the pixels left over by M0 take one-pixel tiles. The epilogue adds the
    bias and, with `accumulate`, the residual, applies the activation and
    stores with masks where F is not a multiple of the lanes.

    BF16 operands step over channel pairs: each pixel's pair is one 32-bit
    broadcast, and with `bf16-dot` (CPUs with AVX512_BF16) each filter
    vector of pairs takes one `vdpbf16ps` (`kiln.bf16_dot`);
    without it the pairs are split into their f32 halves by shifts and
    masks for two multiply-adds, with M0 sized for the extra registers.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the vector registers (512: AVX-512, 256: AVX2)">,
    Option<"bf16Dot", "bf16-dot", "bool", "false",
           "Whether the CPU has AVX512_BF16's vdpbf16ps">,
    Option<"amx", "amx", "bool", "false",
           "Whether the CPU has AMX tiles with BF16 dot products">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::kiln::KilnDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def CpuLowerPageSelectionPass
    : Pass<"kiln-cpu-lower-page-selection", "func::FuncOp"> {
  let summary = "Loops for Quest's kiln.page_bounds, kiln.page_scores and "
                "kiln.select_pages";
  let description = [{
    Lowers the memref forms of Quest's ops. `kiln.page_bounds`: per head
    and page touched, the running minimum and maximum of its rows in
    vectors of channels. `kiln.page_scores`: per head and page, the bounds'
    vectors, then per query row (its vectors and signs kept in registers
    while the pages stream by) `q * (q > 0 ? max : min)` summed with FMAs
    and reduced, summed over the rows; heads and blocks of 64
    pages are the parallel tasks. `kiln.select_pages`: per head, a bisection over the
    scores' 32-bit patterns (ordered as the floats) finds the threshold of
    the K - 1 best in 32 counting sweeps (vectors of scores compared and
    their hits summed), then one sweep writes the pages
    above it (and the first ties) in increasing order.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the vector registers (512: AVX-512, 256: AVX2)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def CpuAttendPastPass : Pass<"kiln-cpu-attend-past", "func::FuncOp"> {
  let summary = "Attention over a past cache and new keys, read where they "
                "are";
  let description = [{
    Rewrites a `kiln.attention` (keys as rows) whose keys and values are
    each an `onnx.Concat` of a past cache and new rows along the
    positions of [B, H, T, D], collapsed to [B * H, T, D] -- a decoder's
    plain graph, whose `present` outputs are those concatenations -- into
    one that takes the past as `past_keys` and `past_values` and the new
    rows as its keys and values. The concatenations stay for the
    `present` outputs; the attention no longer reads them, so it reads
    the past from the caches just after the copy into the present read
    it, instead of the present back from memory (the copy's
    non-temporal stores leave it there). f32 and bf16 rows only.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def CpuLowerAttentionPass
    : Pass<"kiln-cpu-lower-attention", "func::FuncOp"> {
  let summary = "A fused, tiled kernel for kiln.attention";
  let description = [{
    Lowers the memref form of `kiln.attention`. Tiles of M0 query rows of
    one head (M0 x D / lanes output accumulators fill 24 registers) are
    the parallel tasks. A tile walks the keys in blocks of KB (up to four
    vectors): the block's scores are a register-blocked product of
    broadcast query values and vectors of the transposed keys or, with
    `key_rows`, per key the D products with the query's vectors summed
    into one vector and each L keys' vectors folded into one vector of
    their sums by a tree of shuffles (fewer rows per tile, so that the
    query vectors and the folds fit the registers), scaled and
    stored to a stack scratch of M0 x KB (keys past the end under a mask,
    at a score far below any real one); each row's running maximum and sum
    are updated and the scores turn into probabilities in place
    (`math.exp`); the output rows, in a stack scratch of M0 x D, are
    rescaled by exp(old maximum - new maximum) and accumulate the block's
    probabilities times its value rows. Finally each row is divided by its
    sum. The lanes are the widest of `vector-bits` that divide D.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the vector registers (512: AVX-512, 256: AVX2)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def CpuLowerBf16DotPass : Pass<"kiln-cpu-lower-bf16-dot"> {
  let summary = "kiln.bf16_dot as the x86 intrinsic of vdpbf16ps";
  let description = [{
    Rewrites each `kiln.bf16_dot` into an `llvm.call_intrinsic` of
    `llvm.x86.avx512bf16.dpbf16ps.{128,256,512}`. It runs once the loops
    are branches: the OpenMP lowering's allocation scopes are dropped only
    around ops known to allocate nothing, which an intrinsic call is not.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CpuLowerAmxPass : Pass<"kiln-cpu-lower-amx", "ModuleOp"> {
  let summary = "kiln.amx_* as the x86 intrinsics of AMX";
  let description = [{
    Rewrites each `kiln.amx_*` op into an `llvm.call_intrinsic` of its
    instruction on tiles named by number (`llvm.x86.ldtilecfg`,
    `tilezero`, `tileloadd64`, `tilestored64`, `tdpbf16ps`, `tdpbusd`,
    `tilerelease`); the buffers become addresses (aligned pointer plus
    offset, in bytes). `kiln.amx_configure` reads a constant 64-byte
    configuration, a global of the module. It runs once the loops are
    branches, as kiln-cpu-lower-bf16-dot does.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def CpuLowerInt8DotPass : Pass<"kiln-cpu-lower-int8-dot"> {
  let summary = "kiln.int8_dot as vpdpbusd, or widening arithmetic";
  let description = [{
    With `vnni` (CPUs with AVX512_VNNI or AVX-VNNI), rewrites each
    `kiln.int8_dot` into an `llvm.call_intrinsic` of
    `llvm.x86.avx512.vpdpbusd.{128,256,512}` (the byte vectors as i32
    words, as the intrinsic takes them); without it, when the op is
    `narrow_rhs`, into `vpmaddubsw` (pairs summed in i16, which cannot
    saturate) and `vpmaddwd` by ones (pairs of pairs in i32) and an add;
    otherwise into the same sums in generic vector arithmetic: both
    operands widened to i32 (zero- and sign-extended), multiplied, and the
    four products of each lane added by strided shuffles. It runs once the loops are branches, as
    kiln-cpu-lower-bf16-dot does.
  }];
  let options = [
    Option<"vnni", "vnni", "bool", "false",
           "Whether the CPU has vpdpbusd (AVX512_VNNI or AVX-VNNI)">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect"];
}

def CpuTruncateToBf16Pass : Pass<"kiln-cpu-truncate-to-bf16"> {
  let summary = "f32 -> bf16 truncation as integer rounding";
  let description = [{
    Rewrites `arith.truncf` from f32 to bf16 (scalars and vectors) into
    round-to-nearest-even on the bits: the high half of `bits + 0x7fff +
    lowest kept bit`; a NaN is not rounded but keeps its high half with
    the quiet bit set. Unlike upstream's expansion, which chooses the NaN
    result with a select that LLVM turns into a select of bf16 vectors (a
    libgcc call per element on CPUs without AVX512_BF16), the only select
    here is of the integer rounding bias. With `convert-instruction` (a
    CPU with AVX512_BF16), vectors of 8 and 16 lanes take
    `vcvtneps2bf16` instead: one instruction, the same rounding, but
    subnormal inputs flushed to zero, as the peers' bf16 kernels do.
  }];
  let options = [
    Option<"convertInstruction", "convert-instruction", "bool", "false",
           "Vectors of 8 and 16 lanes through AVX512_BF16's vcvtneps2bf16">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def CpuBf16MaskedStoresPass : Pass<"kiln-cpu-bf16-masked-stores"> {
  let summary = "Masked stores of bf16 vectors as stores of 16-bit integers";
  let description = [{
    Bitcasts the value of each `llvm.intr.masked.store` of a bf16 vector
    to i16 lanes: the same bits, stored without the x86 backend's
    conversion through f32 (a libgcc call per element on CPUs without
    AVX512_BF16).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def CpuApproximateMathPass
    : Pass<"kiln-cpu-approximate-math", "func::FuncOp"> {
  let summary = "Polynomial approximations of exp, log, erf and tanh in f32";
  let description = [{
    Rewrites the float32 exp, expm1, log, log1p, log2, erf and tanh into
    upstream MLIR's polynomial approximations (arithmetic ops only); the
    other functions, whose approximations lose accuracy, stay calls. A libm call per element stops LLVM
    from vectorizing the loop around it; the polynomials vectorize, so
    Softmax, GELU, Sigmoid and SiLU run on whole vectors. Other types keep
    their libm calls.
  }];
  let dependentDialects = ["::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def CpuInstrumentKernelsPass
    : Pass<"kiln-cpu-instrument-kernels", "ModuleOp"> {
  let summary = "Mark each kernel of @main for the profiler and count its FLOPs";
  let description = [{
    Runs on bufferized IR. Each top-level op of `@main` that does work (a
    linalg op, a Kiln kernel op, a copy, a loop) is a kernel: it is
    bracketed by calls to `kiln_kernel_begin(i32)` and
    `kiln_kernel_end(i32)` with its index, which the runtime implements
    (runtime/src/Profiler.cpp, through the table of ParallelAbi.h) and which
    cost a return when profiling is off. The module records the kernels in
    `kiln.kernels`, one `{name, flops}` per index: the ONNX nodes the
    kernel computes (from the ops' locations) and its floating-point
    operations per run — for a linalg op, the float arithmetic of its body
    times its iterations; for the Kiln convolutions, two per multiply-add.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // KILN_CODEGEN_CPU_PASSES
