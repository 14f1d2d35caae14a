//===- Passes.td - sparsity passes -------------------------*- tablegen -*-===//
//
// Target-neutral rewrites that skip work the result barely depends on:
// Quest's query-aware selection of the KV cache's pages, and SparseRefine's
// full-resolution run on the uncertain pixels' tiles only.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_SPARSITY_PASSES
#define KILN_PASSES_SPARSITY_PASSES

include "mlir/Pass/PassBase.td"

def SparsityQuestPass : Pass<"kiln-sparsity-quest", "func::FuncOp"> {
  let summary = "Decode attention over the session cache reads only the "
                "pages Quest selects";
  let description = [{
    Quest (ALGORITHMS.md §4). For each fused `kiln.attention` whose keys are
    rows of a session key cache (after kiln-graph-session-kv-cache and
    kiln-graph-fuse-attention), but the first `dense-layers`:

    1. a new session state holds each page's channel-wise minimum and
       maximum of the cached (post-RoPE) keys, [1, heads, 2 x pages, D]
       (`kiln.kv_cache_state` with `page_bounds`); `kiln.page_bounds`
       brings the pages of each run's new rows up to date;
    2. a decode step (one new token) whose context spans more than
       `budget / page` pages scores every page but the current one by
       `kiln.page_scores` (an upper bound of its keys' scores; the query
       heads sharing a key/value head take the largest of theirs) and
       `kiln.select_pages` keeps the best `budget / page - 1` and the
       current one (with `keep-first-page`, the first page among them);
    3. the attention reads only those pages (its `pages` table).

    A prefill, and a context within the budget, attend to every key, as
    the dense kernel does. With `warn`, a function with no such attention
    gets a warning.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", "2048",
           "Tokens a decode step attends to (whole pages of them)">,
    Option<"page", "page", "int64_t", "16",
           "Tokens per page (a multiple of 16)">,
    Option<"denseLayers", "dense-layers", "int64_t", "2",
           "The first attentions, which stay dense">,
    Option<"keepFirst", "keep-first-page", "bool", "false",
           "Always attend to the first page too (where decoders keep "
           "their attention sink)">,
    Option<"warn", "warn", "bool", "false",
           "Warn when there is no attention over a session cache">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::kiln::KilnDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SparsitySparseRefinePass
    : Pass<"kiln-sparsity-sparse-refine", "ModuleOp"> {
  let summary = "A segmentation model runs at low resolution, and at full "
                "resolution only around its uncertain pixels";
  let description = [{
    SparseRefine (ALGORITHMS.md §5) with the training-free refiner. `@main`
    takes one image [1, C, H, W] (static) and gives per-pixel logits [1,
    K, H, W]; it becomes:

    1. the image averaged down to `low-height` x `low-width` (an
       AveragePool of the whole factor), and the model run on it;
    2. the per-pixel entropy of those logits, `-sum p log max(p, 1e-5)`
       over the softmax p of the classes, and the pixels to refine: those
       above `threshold`, or the `fraction` most uncertain
       (`kiln.entropy_cut`);
    3. the tiles of `tile` x `tile` full-resolution pixels that hold one
       (`kiln.refine_tiles`; with `max-tiles`, at most that many, those
       with the most selected pixels), their windows with `halo` pixels each side
       gathered from the image (`kiln.gather_windows`) and the model run
       on them as one batch of symbolic size;
    4. the low-resolution logits upsampled (nearest), and the windows'
       logits where a pixel was selected (`kiln.merge_refined`).

    With `refiner`, steps 3 and 4 are the trained refiner's instead: the
    selected pixels' sites (`kiln.list_sites`), the `refiner` function (a
    convolutional network written for dense images, of the image and
    optionally the upsampled logits) run on them as a sparse network
    (sparse convolutions: `kiln.kernel_map`, `kiln.sparse_im2col` or
    `kiln.sparse_col2im` around a MatMul), the `ensembler` function (of
    the upsampled and the refined logits, rows [n, K]) blending the two,
    and the result written over the upsampled logits at the sites
    (`kiln.scatter_sites`). Both functions are erased after.

    The model's two copies are sized by shape inference before they are
    joined, so a model whose logits do not follow its input's resolution
    (not per-pixel, or sized by constants fixed at export) is an error that
    says which copy gave what. `tile` and `halo` should be multiples of the
    model's output stride, so that a window's pixel grid is the image's,
    and the halo at least its receptive field for a window to compute
    what the full image would.
  }];
  let options = [
    Option<"lowHeight", "low-height", "int64_t", "0",
           "Height of the low-resolution run (divides the image's)">,
    Option<"lowWidth", "low-width", "int64_t", "0",
           "Width of the low-resolution run (divides the image's)">,
    Option<"threshold", "threshold", "double", "-1",
           "Refine pixels whose entropy exceeds this (not negative)">,
    Option<"fraction", "fraction", "double", "-1",
           "Or refine this fraction of the pixels, the most uncertain">,
    Option<"tile", "tile", "int64_t", "128",
           "Side of the tiles re-run at full resolution (pixels)">,
    Option<"halo", "halo", "int64_t", "32",
           "Pixels of context each side of a tile">,
    Option<"maxTiles", "max-tiles", "int64_t", "0",
           "At most this many tiles, those with the most selected pixels "
           "(0: every tile holding one)">,
    Option<"refiner", "refiner", "std::string", "",
           "The function of the module that is the trained refiner (none: "
           "the training-free one)">,
    Option<"ensembler", "ensembler", "std::string", "",
           "The function of the module that is the trained ensembler "
           "(none: the refiner's logits replace the upsampled ones)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KILN_PASSES_SPARSITY_PASSES
