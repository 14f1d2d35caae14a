//===- Passes.td - the code generators' shared passes -----*- tablegen -*-===//
//
// Passes on the tensor and buffer stages that every target runs: fusion
// before bufferization, the weights section, the memory plan.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_PASSES
#define KILN_CODEGEN_COMMON_PASSES

include "mlir/Pass/PassBase.td"

def ExternalizeWeightsPass
    : Pass<"kiln-externalize-weights", "ModuleOp"> {
  let summary = "Read large constants from the package's weights section";
  let description = [{
    Constant `memref.global`s of at least `min-bytes` bytes leave the code:
    the entry function `@main` gains a leading `memref<?xi8>` argument (the
    weights section, memory-mapped by the runtime) and each use of such a
    global becomes a `memref.view` at the global's offset in that section.
    Offsets are aligned to 64 bytes. The module records the layout in
    `kiln.weights`: one `{offset, value}` dictionary per weight, in section
    order, so the package writer can lay out the bytes. Weights are thus
    used in place from the mapped file, never copied into the code.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", "64",
           "Constants at least this large go to the weights section">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def SignlessIntegersPass : Pass<"kiln-signless-integers", "ModuleOp"> {
  let summary = "Make every unsigned integer type signless";
  let description = [{
    The tensor stage keeps ONNX's unsigned element types (`ui8`, ...) at
    every op's boundary, so that the signature the package records says
    what the caller passes; the ops that compute on them read them through
    `tensor.bitcast` as signless integers and pick the unsigned arith ops
    (`arith.extui`, `arith.divui`, ...) themselves. Before bufferization,
    which cannot bitcast buffers, this pass rewrites every remaining
    unsigned integer type in the module (function signatures, block
    arguments, results, attributes) to the signless type of the same width
    and erases the bitcasts, now identities. Bits never change.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def WriteInPlacePass : Pass<"kiln-write-in-place", "func::FuncOp"> {
  let summary = "Compute a Concat's pieces in their slices of its result";
  let description = [{
    Before bufferization: every chain of `tensor.insert_slice`s (a Concat)
    gets a `tensor.empty` of its own to start from, a reshape that only adds
    unit dimensions between a tensor and the `tensor.insert_slice` placing
    it folds into a rank-reducing insert_slice, and bufferization's empty
    tensor elimination makes each inserted piece's `tensor.empty`
    destination the slice it is inserted into. A stack of per-layer
    concatenations (a decoder's present KV caches) is then written in
    place instead of written and copied.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def PlanMemoryPass : Pass<"kiln-plan-memory", "ModuleOp"> {
  let summary = "Place intermediate buffers in one per-session workspace";
  let description = [{
    Runs after kiln-externalize-weights. Every statically shaped
    `memref.alloc` at the top level of `@main` that is freed by a
    `memref.dealloc` in the same block gets an offset (64-byte aligned) in
    one workspace buffer: buffers whose lifetimes (from the alloc to the
    last op that uses the buffer or a view of it, in program order; the
    deallocation passes put every dealloc at the end) overlap never share
    bytes, others may. `@main` gains
    a second argument, the workspace (`memref<?xi8>`), each such alloc
    becomes a `memref.view` into it and its dealloc disappears. The module
    records `kiln.workspace_bytes` (the workspace's size) and
    `kiln.dynamic_buffers` (allocations left to run time: buffers whose
    size depends on run-time dimensions, and results unless planned).
    With `plan-results`, a statically shaped buffer the function returns
    (directly or through views) is placed too, live until the return: the
    CPU runtime hands such results out as session memory, valid until the
    next run, so that a static model allocates nothing per run.
  }];
  let options = [
    Option<"planResults", "plan-results", "bool", "false",
           "Place the returned buffers in the workspace as well">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerStridedCopiesPass
    : Pass<"kiln-lower-strided-copies", "func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into loops";
  let description = [{
    The LLVM lowering turns a `memref.copy` whose operands are not both
    contiguous into a call to a library helper. Kiln's object code links no
    MLIR runtime library, so such copies become loops here. Contiguous
    copies stay and become `memcpy`. By default a copy becomes a
    `linalg.copy`. With `chunk-bytes`, a copy whose trailing dimensions are
    one run of memory in both views (a key cache copied into the first rows
    of each head of a longer one), the run symbolic or at least a chunk
    long, becomes an `scf.parallel` over rows and chunks of that many bytes,
    each a contiguous loop, and a loop over each row's remainder: the
    threads split the copy without dividing an index back into
    coordinates for every short row. With `streaming-stores` as well, a
    chunk whose target is 16-byte aligned is written 64 bytes at a time by
    non-temporal stores (`llvm.store` with `nontemporal`), which skip the
    read for ownership of each line; they need no fence of their own, as
    every parallel loop ends in the runtime's barrier, a locked
    read-modify-write, which orders them.
  }];
  let options = [
    Option<"chunkBytes", "chunk-bytes", "int64_t", "0",
           "Bytes per chunk of a contiguous run (0: a linalg.copy)">,
    Option<"streamingStores", "streaming-stores", "bool", "false",
           "With chunk-bytes: write each chunk whose target is 16-byte "
           "aligned with non-temporal stores">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def FuseElementwisePass
    : Pass<"kiln-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise producers into elementwise consumers";
  let description = [{
    Runs on linalg on tensors, before bufferization. An elementwise
    linalg.generic with one use fuses into its consumer when that consumer
    is elementwise too, so chains (bias, batch normalization, activation)
    become one loop nest whose intermediates never reach memory. Producers
    of reductions (matmul, convolution, softmax sums) are left alone: fused
    there, they would be recomputed for every reduction step. With
    `fuse-moves`, a producer that only moves elements (a transpose,
    broadcast or copy: its body yields its input) fuses into any consumer,
    reductions included, as a change of the consumer's indexing: it costs
    nothing per step and saves writing the moved tensor (the CUDA kernels
    then read a transposed key cache in place).
  }];
  let options = [
    Option<"fuseMoves", "fuse-moves", "bool", "false",
           "Also fuse transposes, broadcasts and copies into reductions">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def ForwardScalarStoresPass
    : Pass<"kiln-forward-scalar-stores", "func::FuncOp"> {
  let summary = "Forward scalars stored at the top level to the loads that read them back";
  let description = [{
    Shape computations (Shape, Gather, Concat and arithmetic on small
    integer tensors) bufferize into scalars stored into small buffers at the
    top level of the function and loaded back where a size is needed. A
    `memref.load` at the function's top level with constant indices takes
    the value of the nearest earlier top-level `memref.store` to the same
    element of the same buffer, when nothing in between may write that
    buffer (a store to another element of it, or ops that do not touch it
    at all, may sit in between). A buffer that is then only written is
    removed with its stores. Sizes then depend on the inputs' dimensions
    alone, which is what a target that computes them on the host (CUDA)
    needs.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def LowerSparseRefinePass
    : Pass<"kiln-lower-sparse-refine", "func::FuncOp"> {
  let summary = "Loops for SparseRefine's kiln.entropy_cut, kiln.refine_tiles, "
                "kiln.gather_windows and kiln.merge_refined";
  let description = [{
    Lowers the memref forms of SparseRefine's ops to loops, for any
    target. `kiln.entropy_cut`: a bisection over the entropies' 32-bit
    patterns (ordered as the floats, which are not negative) in 31
    halvings, each a parallel count over chunks of the entropies (runs, or
    with `interleave` every n-th element) and a sum of the chunks' counts
    that halves the bounds. `kiln.refine_tiles`: per
    tile (the parallel tasks) whether a pixel of it is marked, then one
    scan in tile order numbers the marked ones. `kiln.gather_windows`: a
    copy per window row (windows, channels and rows the parallel tasks).
    `kiln.merge_refined`: per channel and row (the parallel tasks), a
    segment per tile: where the tile has a window, the refined logit or
    the upsampled one by the mask (a select); elsewhere the upsampled one.
  }];
  let options = [
    Option<"interleave", "interleave", "bool", "false",
           "Parallel sweeps take every n-th element (a GPU thread each, "
           "neighbours reading neighbouring elements) rather than runs (a "
           "CPU thread's vector sweep)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LowerSparseConvolutionPass
    : Pass<"kiln-lower-sparse-convolution", "func::FuncOp"> {
  let summary = "Loops for the site tables, kernel maps, gathers and "
                "scatters of sparse convolutions";
  let description = [{
    Lowers the memref forms of `kiln.list_sites` (per row of the mask its
    marked pixels counted, a running sum of the rows' starts, then per row
    of the grid its sites listed) and `kiln.coarse_sites` (each fine site
    marks its coarse pixel in a grid of marks, listed the same way),
    `kiln.kernel_map` (the input sites hashed, then per output
    site, the parallel tasks, a lookup per kernel offset), and
    `kiln.gather_sites`, `kiln.scatter_sites`, `kiln.sparse_im2col` and
    `kiln.sparse_col2im` (per row, the parallel tasks: copies, zeros and
    sums of rows).
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LowerPageSelectionPass
    : Pass<"kiln-lower-page-selection", "func::FuncOp"> {
  let summary = "Parallel loops for Quest's page bounds, page scores and "
                "page selection";
  let description = [{
    Lowers the memref forms of `kiln.page_bounds` (a parallel iteration
    per head, page and channel), `kiln.page_scores` (per head and page)
    and `kiln.select_pages` (per head and page its rank among the scores,
    ties to the lower page; then each chosen page's slot, the chosen pages
    before it), for a target of many narrow threads: no step is serial
    over the pages. The CPU's lowering (kiln-cpu-lower-page-selection) is
    vector code instead. 4-bit key rows are refused.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // KILN_CODEGEN_COMMON_PASSES
