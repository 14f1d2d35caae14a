//===- Passes.td - sparsity passes -------------------------*- tablegen -*-===//
//
// Target-neutral rewrites that skip work the result barely depends on:
// Quest's query-aware selection of the KV cache's pages.
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

#endif // KILN_PASSES_SPARSITY_PASSES
