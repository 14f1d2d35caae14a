//===- SessionKvCache.cpp - kiln-graph-session-kv-cache -------------------===//
//
// A decoder exported with a past/present cache takes every layer's keys and
// values so far as inputs and returns them, one token longer, as outputs:
// `present = Concat(past, new, axis=2)`. Each step then copies the whole
// cache in and out. This pass gives the cache to the session instead: each
// past input becomes a buffer the session owns, preallocated for `capacity`
// tokens ([1, heads, capacity, head_dim], pages of `page` tokens, each
// head's pages contiguous), and the Concat becomes a write of the new rows
// at the cache's current length followed by a view of its filled prefix.
// The session passes the length as one more input and advances it after
// each run; the present outputs disappear. An f32 cache may be held in
// bf16 (half the bytes a decode step reads), rounded as it is written.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/Passes.h"

#include "dialects/kiln/KilnAttributes.h"
#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxDataTypes.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_GRAPHSESSIONKVCACHEPASS
#include "passes/graph/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// One cache: the past input and the present output it replaces.
struct CachePair {
  BlockArgument past;
  unsigned presentIndex;
  onnx::ConcatOp append;
};

StringRef nameAttr(DictionaryAttr attrs) {
  auto name = attrs ? attrs.getAs<StringAttr>("onnx.name") : StringAttr();
  return name ? name.getValue() : StringRef();
}

/// The declared name of dimension `dim`, "" when it has none.
StringRef dimName(DictionaryAttr attrs, int64_t dim) {
  auto names = attrs ? attrs.getAs<ArrayAttr>("onnx.dim_params") : ArrayAttr();
  if (!names || dim >= (int64_t)names.size())
    return "";
  auto name = dyn_cast<StringAttr>(names[dim]);
  return name ? name.getValue() : StringRef();
}

/// Whether the model function's result `index` is `present =
/// Concat(past, new, axis=2)` of a 4-D past input with static heads and
/// head size.
std::optional<CachePair> matchCache(func::FuncOp function,
                                    func::ReturnOp returned, unsigned index) {
  auto concat = returned.getOperand(index).getDefiningOp<onnx::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return std::nullopt;
  auto past = dyn_cast<BlockArgument>(concat.getInputs()[0]);
  if (!past || past.getOwner() != &function.getBody().front())
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(past.getType());
  if (!type || type.getRank() != 4 || type.isDynamicDim(1) ||
      type.isDynamicDim(3) || !type.isDynamicDim(2) ||
      (!type.isDynamicDim(0) && type.getDimSize(0) != 1))
    return std::nullopt;
  int64_t axis = concat.getAxis();
  if (axis != 2 && axis != -2)
    return std::nullopt;
  return CachePair{past, index, concat};
}

struct SessionKvCachePass
    : public kiln::impl::GraphSessionKvCachePassBase<SessionKvCachePass> {
  using GraphSessionKvCachePassBase::GraphSessionKvCachePassBase;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    if (capacity <= 0 || page <= 0) {
      function.emitError() << "the session cache needs a positive maximum "
                              "context and page size, not "
                           << capacity << " and " << page;
      return signalPassFailure();
    }
    if (elementType != "f32" && elementType != "bf16" && elementType != "kv4") {
      function.emitError() << "the session cache's element type is f32, "
                              "bf16 or kv4, not '"
                           << elementType << "'";
      return signalPassFailure();
    }
    bool fourBits = elementType == "kv4";
    int64_t pages = (capacity + page - 1) / page;
    int64_t tokens = pages * page;

    auto returned =
        cast<func::ReturnOp>(function.getBody().front().getTerminator());
    SmallVector<CachePair> caches;
    for (unsigned index = 0; index < returned.getNumOperands(); ++index)
      if (std::optional<CachePair> cache =
              matchCache(function, returned, index))
        caches.push_back(*cache);
    if (caches.empty()) {
      function.emitError()
          << "no key/value cache to give the session: no output is a "
             "Concat of a 4-D past input [batch, heads, past, head_dim] with "
             "the new keys or values on axis 2";
      return signalPassFailure();
    }

    // The runtime binds the past length itself and checks the room for
    // the new tokens through the present outputs' sequence dimension,
    // which some input (the attention mask) must also carry.
    StringRef pastDim, totalDim, batchDim;
    for (const CachePair &cache : caches) {
      DictionaryAttr pastAttrs =
          function.getArgAttrDict(cache.past.getArgNumber());
      DictionaryAttr presentAttrs =
          function.getResultAttrDict(cache.presentIndex);
      StringRef past = dimName(pastAttrs, 2), total = dimName(presentAttrs, 2);
      if (total.empty() || (!totalDim.empty() && total != totalDim)) {
        function.emitError()
            << "output '" << nameAttr(presentAttrs)
            << "' does not name its sequence dimension as the other present "
               "outputs do, so the session cannot check the cache's room";
        return signalPassFailure();
      }
      pastDim = past;
      totalDim = total;
      if (cast<RankedTensorType>(cache.past.getType()).isDynamicDim(0))
        batchDim = dimName(pastAttrs, 0);
    }
    llvm::SmallPtrSet<Operation *, 8> appends;
    for (const CachePair &cache : caches)
      appends.insert(cache.append);
    // The dimensions the inputs other than the pasts name (symbolic ones),
    // in order: the total must be among them. The new tokens' dimension,
    // so that the session can check that the total is the cached plus the
    // new tokens, is the one other (input_ids' and position_ids' sequence
    // length), if there is exactly one.
    bool totalIsInput = false;
    llvm::SmallSetVector<StringRef, 4> others;
    for (BlockArgument argument : function.getArguments()) {
      bool isPast = llvm::any_of(caches, [&](const CachePair &cache) {
        return cache.past == argument;
      });
      auto type = dyn_cast<RankedTensorType>(argument.getType());
      if (isPast || !type)
        continue;
      for (int64_t dim = 0; dim < type.getRank(); ++dim) {
        StringRef name =
            dimName(function.getArgAttrDict(argument.getArgNumber()), dim);
        totalIsInput |= name == totalDim;
        if (type.isDynamicDim(dim) && !name.empty() && name != totalDim &&
            name != pastDim && name != batchDim)
          others.insert(name);
      }
    }
    StringRef newDim = others.size() == 1 ? others.front() : StringRef();
    if (!totalIsInput) {
      function.emitError() << "no input has the present outputs' sequence "
                              "dimension '"
                           << totalDim
                           << "' (as the attention mask does), so the session "
                              "cannot check the cache's room";
      return signalPassFailure();
    }

    OpBuilder b(function.getContext());
    Block &entry = function.getBody().front();
    Location loc = function.getLoc();
    auto lengthType = RankedTensorType::get({}, b.getI64Type());
    // The length and the states follow the public inputs, in the order
    // the session passes them.
    unsigned lengthIndex = function.getNumArguments();
    function.insertArgument(lengthIndex, lengthType,
                            b.getDictionaryAttr(b.getNamedAttr(
                                kKvCacheLengthAttrName, b.getUnitAttr())),
                            loc);
    BlockArgument lengthArgument = function.getArgument(lengthIndex);
    b.setInsertionPointToStart(&entry);
    Value length = b.create<arith::IndexCastOp>(
        loc, b.getIndexType(),
        b.create<tensor::ExtractOp>(loc, lengthArgument, ValueRange{}));

    llvm::BitVector erasedArguments(function.getNumArguments() + caches.size());
    llvm::BitVector erasedResults(function.getNumResults());
    for (CachePair &cache : caches) {
      auto pastType = cast<RankedTensorType>(cache.past.getType());
      int64_t heads = pastType.getDimSize(1), headDim = pastType.getDimSize(3);
      if (fourBits && (!pastType.getElementType().isF32() || headDim % 2)) {
        function.emitError()
            << "a 4-bit cache holds f32 keys and values of an even head "
               "size, not "
            << pastType;
        return signalPassFailure();
      }
      // The element type held: bf16 for an f32 cache when asked, bytes of
      // packed 4-bit rows (kiln.pack_kv4: D/2 + 4 a row), else the past's
      // own.
      Type held = elementType == "bf16" && pastType.getElementType().isF32()
                      ? Type(b.getBF16Type())
                  : fourBits ? Type(b.getI8Type())
                             : pastType.getElementType();
      int64_t width = fourBits ? headDim / 2 + 4 : headDim;
      auto stateType = RankedTensorType::get({1, heads, tokens, width}, held);
      StringRef pastName =
          nameAttr(function.getArgAttrDict(cache.past.getArgNumber()));
      StringRef presentName =
          nameAttr(function.getResultAttrDict(cache.presentIndex));
      unsigned stateIndex = function.getNumArguments();
      function.insertArgument(
          stateIndex, stateType,
          b.getDictionaryAttr(b.getNamedAttr(
              kKvCacheStateAttrName,
              b.getDictionaryAttr(
                  {b.getNamedAttr("past", b.getStringAttr(pastName)),
                   b.getNamedAttr("present", b.getStringAttr(presentName))}))),
          loc);
      BlockArgument state = function.getArgument(stateIndex);

      // [1, heads, ?, `rowWidth`] of `element`.
      auto rowsType = [&](Type element, int64_t rowWidth) {
        return RankedTensorType::get({1, heads, ShapedType::kDynamic, rowWidth},
                                     element);
      };
      // The first `rows` tokens of a [1, heads, >= rows, row width] tensor.
      auto view = [&](Value source, Value rows) -> Value {
        auto type = cast<RankedTensorType>(source.getType());
        int64_t rowWidth = type.getDimSize(3);
        SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
        SmallVector<OpFoldResult> sizes{b.getIndexAttr(1),
                                        b.getIndexAttr(heads), rows,
                                        b.getIndexAttr(rowWidth)};
        SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
        return b.create<tensor::ExtractSliceOp>(
            loc, rowsType(type.getElementType(), rowWidth), source, offsets,
            sizes, strides);
      };
      // A view of the state as the model's `like` type reads it.
      auto read = [&](Value stateView, RankedTensorType like) -> Value {
        if (fourBits)
          return b.create<tensor::CastOp>(
              loc, like,
              b.create<UnpackKv4Op>(
                  loc, rowsType(like.getElementType(), headDim), stateView));
        return onnx::createCast(
            b, loc, b.create<tensor::CastOp>(loc, like.clone(held), stateView),
            like.getElementType());
      };
      // The filled prefix, for the past's other users (its Shape).
      b.setInsertionPointAfterValue(length);
      Value pastView = read(view(state, length), pastType);
      cache.past.replaceUsesWithIf(pastView, [&](OpOperand &use) {
        return !appends.contains(use.getOwner());
      });

      // The new rows written after the cache's length (at most as many as
      // fit: the session checks the room before a run, so this bound only
      // keeps inconsistent inputs inside the buffer), rounded to the held
      // type, then the filled view.
      b.setInsertionPoint(cache.append);
      Value rows = b.create<tensor::CastOp>(
          loc, rowsType(pastType.getElementType(), headDim),
          cache.append.getInputs()[1]);
      Value newRows = b.create<tensor::DimOp>(loc, rows, 2);
      Value room = b.create<arith::SubIOp>(
          loc, b.create<arith::ConstantIndexOp>(loc, tokens), length);
      Value written = b.create<arith::MinUIOp>(loc, newRows, room);
      Value fitting =
          fourBits ? Value(b.create<PackKv4Op>(loc, rowsType(held, width),
                                               view(rows, written)))
                   : onnx::createCast(b, loc, view(rows, written), held);
      SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0),
                                        length, b.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(heads),
                                      written, b.getIndexAttr(width)};
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      Value updated = b.create<tensor::InsertSliceOp>(loc, fitting, state,
                                                      offsets, sizes, strides);
      Value filled = b.create<arith::AddIOp>(loc, length, written);
      auto appendType = cast<RankedTensorType>(cache.append.getType());
      Value present = read(view(updated, filled), appendType);
      cache.append.getResult().replaceAllUsesWith(present);
      cache.append.erase();
      erasedArguments.set(cache.past.getArgNumber());
      erasedResults.set(cache.presentIndex);
    }

    returned->eraseOperands(erasedResults);
    function.eraseResults(erasedResults);
    function.eraseArguments(erasedArguments);

    function->setAttr(
        kKvCacheAttrName,
        b.getDictionaryAttr(
            {b.getNamedAttr("capacity", b.getI64IntegerAttr(tokens)),
             b.getNamedAttr("page", b.getI64IntegerAttr(page)),
             b.getNamedAttr("past_dim", b.getStringAttr(pastDim)),
             b.getNamedAttr("total_dim", b.getStringAttr(totalDim)),
             b.getNamedAttr("batch_dim", b.getStringAttr(batchDim)),
             b.getNamedAttr("new_dim", b.getStringAttr(newDim))}));
  }
};

} // namespace
