//===- Attention.cpp - kiln-cpu-lower-attention ---------------------------===//
//
// Attention with an online softmax: a tile of M0 query rows walks the keys
// in blocks of KB. For each block, the scores are a register-blocked
// product like the packed contraction's (broadcast query values, vectors
// of transposed keys) or, from keys as rows, per key a vector of D
// products summed and the vectors of L keys folded into one by a tree of
// shuffles; they are scaled and stored to a small scratch; each row's
// running maximum and sum are updated and the scores become
// probabilities in place; the output rows, kept in a scratch of M0 x D,
// are rescaled by exp(old max - new max) and accumulate the block's
// probabilities times its value rows (broadcast probabilities, vectors of
// values). The last step divides by the sums. Memory sees Q, K and V once
// per tile and the output once.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelHelpers.h"
#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERATTENTIONPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The running maximum's start and the score of a key past the end: far
/// below any real score, yet finite, so that differences stay finite.
constexpr float kFarBelow = -1e30f;

class AttentionEmitter : KernelEmitterBase {
public:
  AttentionEmitter(AttentionOp op, int64_t vectorBits, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op) {
    auto q = cast<MemRefType>(op.getQuery().getType()).getShape();
    auto k = cast<MemRefType>(op.getKeys().getType()).getShape();
    heads = q[0];
    rows = q[1];
    depth = q[2];
    keys = k[op.getKeyPositionsDim()];
    lanes = vectorBits / 32;
    while (depth % lanes)
      lanes /= 2;
    depthVectors = depth / lanes;
    // Each phase of a tile (scores, outputs) fills the accumulators.
    int64_t budget = accumulatorBudget(vectorBits);
    rowsPerTile = std::clamp<int64_t>(budget / depthVectors, 1, 8);
    if (op.getKeyRows()) {
      // Scores from key rows hold, per row, its query vectors and a stack
      // of partly folded key groups (log2 L + 1), beside one key row.
      int64_t registers = vectorBits >= 512 ? 32 : 16;
      int64_t perRow = depthVectors + llvm::Log2_64(lanes) + 1;
      rowsPerTile = std::clamp<int64_t>(
          (registers - depthVectors - 1) / perRow, 1, rowsPerTile);
    }
    rowsPerTile = std::min(rowsPerTile, rows);
    blockVectors = std::clamp<int64_t>(budget / rowsPerTile, 1, 4);
    blockKeys = blockVectors * lanes;
    vectorType = VectorType::get({lanes}, b.getF32Type());
  }

  void emit();

private:
  Value scalar(float value) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
  }
  Value splat(float value) {
    return b.create<arith::ConstantOp>(
        loc, vectorType, DenseElementsAttr::get(vectorType, value));
  }
  Value broadcast(Value value) {
    return b.create<vector::BroadcastOp>(loc, vectorType, value);
  }
  Value load(Value buffer, Value at) {
    return b.create<vector::LoadOp>(loc, vectorType, buffer, ValueRange{at});
  }
  void store(Value value, Value buffer, Value at) {
    b.create<vector::StoreOp>(loc, value, buffer, ValueRange{at});
  }

  void emitTile(int64_t count, Value head, Value firstRow);
  /// The unscaled scores of `count` rows (at `queryRows`) against the
  /// `valid` keys from `firstKey`, as vectors [row * vectors + vector];
  /// lanes past `valid` are zero.
  SmallVector<Value> emitTransposedKeyScores(int64_t count, int64_t valid,
                                             Value head,
                                             ArrayRef<Value> queryRows,
                                             Value firstKey, Value tailMask);
  SmallVector<Value> emitKeyRowScores(int64_t count, int64_t valid,
                                      Value head, ArrayRef<Value> queryRows,
                                      Value firstKey);
  /// `first` and `second`, each holding `keys` keys' partial sums in
  /// segments of L / keys lanes, as one vector of 2 * keys keys (first's,
  /// then second's) in segments half as long.
  Value foldKeyGroups(Value first, Value second, int64_t keys);
  /// One block of `valid` keys from `firstKey`: scores, the online softmax
  /// update of (maxima, sums), the output scratch rescaled and accumulated.
  SmallVector<Value> emitBlock(int64_t count, int64_t valid, Value head,
                               Value firstRow, Value firstKey,
                               ValueRange carried);

  AttentionOp op;
  int64_t heads, rows, depth, keys;
  int64_t lanes, depthVectors, rowsPerTile, blockVectors, blockKeys;
  VectorType vectorType;
  Value query, keysBuffer, values, output;
  /// Per tile: the block's scores (M0 x KB) and the output rows (M0 x D).
  Value scores, accumulated;
};

void AttentionEmitter::emit() {
  query = flattenBuffer(b, loc, op.getQuery());
  keysBuffer = flattenBuffer(b, loc, op.getKeys());
  values = flattenBuffer(b, loc, op.getValues());
  output = flattenBuffer(b, loc, op.getInit());
  int64_t tilesPerHead = llvm::divideCeil(rows, rowsPerTile);
  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{index(heads * tilesPerHead)},
      ValueRange{index(1)});
  markThreaded(loop, 4 * heads * rows * keys * depth);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  scores = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rowsPerTile * blockKeys}, b.getF32Type()));
  accumulated = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rowsPerTile * depth}, b.getF32Type()));
  Value tile = loop.getInductionVars()[0];
  Value head = b.create<arith::DivUIOp>(loc, tile, index(tilesPerHead));
  Value rowTile = b.create<arith::RemUIOp>(loc, tile, index(tilesPerHead));
  Value firstRow = mul(rowTile, rowsPerTile);
  int64_t fullTiles = rows / rowsPerTile;
  if (fullTiles == tilesPerHead) {
    emitTile(rowsPerTile, head, firstRow);
    return;
  }
  Value isFull = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                         rowTile, index(fullTiles));
  auto branch = b.create<scf::IfOp>(loc, isFull, /*withElseRegion=*/true);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitTile(rowsPerTile, head, firstRow);
  // The last, partial tile: a row at a time.
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  auto rest = b.create<scf::ForOp>(loc, firstRow, index(rows), index(1));
  b.setInsertionPointToStart(rest.getBody());
  emitTile(1, head, rest.getInductionVar());
}

void AttentionEmitter::emitTile(int64_t count, Value head, Value firstRow) {
  for (int64_t at = 0; at < count * depth; at += lanes)
    store(splat(0.0f), accumulated, index(at));
  // Carried through the blocks: each row's running maximum and sum.
  SmallVector<Value> carried(count, scalar(kFarBelow));
  carried.append(count, scalar(0.0f));
  int64_t fullBlocks = keys / blockKeys;
  if (fullBlocks > 0) {
    auto blocks = b.create<scf::ForOp>(
        loc, index(0), index(fullBlocks * blockKeys), index(blockKeys),
        carried, [&](OpBuilder &, Location, Value firstKey, ValueRange state) {
          b.create<scf::YieldOp>(loc, emitBlock(count, blockKeys, head,
                                                firstRow, firstKey, state));
        });
    carried = blocks.getResults();
  }
  if (keys % blockKeys)
    carried = emitBlock(count, keys % blockKeys, head, firstRow,
                        index(fullBlocks * blockKeys), carried);

  // The output rows over their sums.
  for (int64_t r = 0; r < count; ++r) {
    Value inverse = broadcast(
        b.create<arith::DivFOp>(loc, scalar(1.0f), carried[count + r]));
    Value outRow = mul(add(mul(head, rows), add(firstRow, index(r))), depth);
    for (int64_t w = 0; w < depthVectors; ++w) {
      Value sum = load(accumulated, index(r * depth + w * lanes));
      store(b.create<arith::MulFOp>(loc, sum, inverse), output,
            add(outRow, index(w * lanes)));
    }
  }
}

SmallVector<Value> AttentionEmitter::emitTransposedKeyScores(
    int64_t count, int64_t valid, Value head, ArrayRef<Value> queryRows,
    Value firstKey, Value tailMask) {
  // acc[r][v] = sum over d of q[r][d] * kt[d][firstKey + v * L]. Vectors
  // wholly past `valid` are skipped; the one straddling it loads under a
  // mask.
  int64_t vectors = llvm::divideCeil(valid, lanes);
  Value keyBase = add(mul(head, depth * keys), firstKey);
  SmallVector<Value> zeros(count * vectors, splat(0.0f));
  auto overDepth = b.create<scf::ForOp>(
      loc, index(0), index(depth), index(1), zeros,
      [&](OpBuilder &, Location, Value d, ValueRange acc) {
        Value keyRow = add(keyBase, mul(d, keys));
        SmallVector<Value> keyVectors;
        for (int64_t v = 0; v < vectors; ++v) {
          Value at = add(keyRow, index(v * lanes));
          keyVectors.push_back(
              v + 1 == vectors && tailMask
                  ? b.create<vector::MaskedLoadOp>(loc, vectorType, keysBuffer,
                                                   ValueRange{at}, tailMask,
                                                   splat(0.0f))
                  : load(keysBuffer, at));
        }
        SmallVector<Value> next;
        for (int64_t r = 0; r < count; ++r) {
          Value q = broadcast(b.create<memref::LoadOp>(
              loc, query, ValueRange{add(queryRows[r], d)}));
          for (int64_t v = 0; v < vectors; ++v)
            next.push_back(b.create<vector::FMAOp>(loc, q, keyVectors[v],
                                                   acc[r * vectors + v]));
        }
        b.create<scf::YieldOp>(loc, next);
      });
  return SmallVector<Value>(overDepth.getResults());
}

Value AttentionEmitter::foldKeyGroups(Value first, Value second,
                                      int64_t keys) {
  int64_t segment = lanes / keys, half = segment / 2;
  SmallVector<int64_t> lows, highs;
  for (int64_t from : {int64_t(0), lanes})
    for (int64_t key = 0; key < keys; ++key)
      for (int64_t j = 0; j < half; ++j) {
        lows.push_back(from + key * segment + j);
        highs.push_back(from + key * segment + half + j);
      }
  Value low = b.create<vector::ShuffleOp>(loc, first, second, lows);
  Value high = b.create<vector::ShuffleOp>(loc, first, second, highs);
  return b.create<arith::AddFOp>(loc, low, high);
}

SmallVector<Value> AttentionEmitter::emitKeyRowScores(
    int64_t count, int64_t valid, Value head, ArrayRef<Value> queryRows,
    Value firstKey) {
  int64_t vectors = llvm::divideCeil(valid, lanes);
  SmallVector<SmallVector<Value>> queryVectors(count);
  for (int64_t r = 0; r < count; ++r)
    for (int64_t w = 0; w < depthVectors; ++w)
      queryVectors[r].push_back(
          load(query, add(queryRows[r], index(w * lanes))));
  Value keyBase = mul(add(mul(head, keys), firstKey), depth);
  SmallVector<Value> scores(count * vectors);
  for (int64_t v = 0; v < vectors; ++v) {
    // Per row, a stack of (vector, keys in it): two groups of the same
    // size fold into one as soon as both exist, like a binary counter,
    // so that few vectors are live at once.
    SmallVector<SmallVector<std::pair<Value, int64_t>>> stacks(count);
    for (int64_t t = 0; t < lanes; ++t) {
      int64_t key = v * lanes + t;
      SmallVector<Value> keyRow;
      for (int64_t w = 0; key < valid && w < depthVectors; ++w)
        keyRow.push_back(
            load(keysBuffer, add(keyBase, index(key * depth + w * lanes))));
      for (int64_t r = 0; r < count; ++r) {
        Value partial = splat(0.0f);
        if (key < valid) {
          partial = b.create<arith::MulFOp>(loc, queryVectors[r][0],
                                            keyRow[0]);
          for (int64_t w = 1; w < depthVectors; ++w)
            partial = b.create<vector::FMAOp>(loc, queryVectors[r][w],
                                              keyRow[w], partial);
        }
        auto &stack = stacks[r];
        stack.push_back({partial, 1});
        while (stack.size() > 1 &&
               stack.back().second == stack[stack.size() - 2].second) {
          auto [upper, keysEach] = stack.pop_back_val();
          stack.back() = {foldKeyGroups(stack.back().first, upper, keysEach),
                          2 * keysEach};
        }
      }
    }
    for (int64_t r = 0; r < count; ++r)
      scores[r * vectors + v] = stacks[r].front().first;
  }
  return scores;
}

SmallVector<Value> AttentionEmitter::emitBlock(int64_t count, int64_t valid,
                                               Value head, Value firstRow,
                                               Value firstKey,
                                               ValueRange carried) {
  int64_t vectors = llvm::divideCeil(valid, lanes);
  auto maskType = VectorType::get({lanes}, b.getI1Type());
  Value tailMask;
  if (valid % lanes)
    tailMask = b.create<vector::CreateMaskOp>(
        loc, maskType, ValueRange{index(valid % lanes)});
  SmallVector<Value> queryRows;
  for (int64_t r = 0; r < count; ++r)
    queryRows.push_back(
        mul(add(mul(head, rows), add(firstRow, index(r))), depth));
  SmallVector<Value> rawScores =
      op.getKeyRows()
          ? emitKeyRowScores(count, valid, head, queryRows, firstKey)
          : emitTransposedKeyScores(count, valid, head, queryRows, firstKey,
                                    tailMask);

  // The online softmax: per row, the new maximum, the factor that rescales
  // what came before, the block's probabilities (in place) and sum.
  Value scale = splat(op.getScale().convertToFloat());
  SmallVector<Value> maxima, sums, factors;
  for (int64_t r = 0; r < count; ++r) {
    SmallVector<Value> scaled;
    for (int64_t v = 0; v < vectors; ++v) {
      Value s = b.create<arith::MulFOp>(
          loc, rawScores[r * vectors + v], scale);
      if (v + 1 == vectors && tailMask)
        s = b.create<arith::SelectOp>(loc, tailMask, s, splat(kFarBelow));
      scaled.push_back(s);
    }
    Value blockMax = scaled[0];
    for (int64_t v = 1; v < vectors; ++v)
      blockMax = b.create<arith::MaximumFOp>(loc, blockMax, scaled[v]);
    Value newMax = b.create<arith::MaximumFOp>(
        loc, carried[r],
        b.create<vector::ReductionOp>(loc, vector::CombiningKind::MAXIMUMF,
                                      blockMax));
    Value factor = b.create<math::ExpOp>(
        loc, b.create<arith::SubFOp>(loc, carried[r], newMax));
    Value sum = splat(0.0f);
    for (int64_t v = 0; v < vectors; ++v) {
      Value p = b.create<math::ExpOp>(
          loc, b.create<arith::SubFOp>(loc, scaled[v], broadcast(newMax)));
      sum = b.create<arith::AddFOp>(loc, sum, p);
      store(p, scores, index(r * blockKeys + v * lanes));
    }
    Value blockSum = b.create<vector::ReductionOp>(
        loc, vector::CombiningKind::ADD, sum);
    maxima.push_back(newMax);
    factors.push_back(factor);
    sums.push_back(b.create<arith::AddFOp>(
        loc, b.create<arith::MulFOp>(loc, carried[count + r], factor),
        blockSum));
  }

  // The output rows: rescaled, then += p[r][j] * v[firstKey + j].
  SmallVector<Value> outputs;
  for (int64_t r = 0; r < count; ++r) {
    Value factor = broadcast(factors[r]);
    for (int64_t w = 0; w < depthVectors; ++w)
      outputs.push_back(b.create<arith::MulFOp>(
          loc, load(accumulated, index(r * depth + w * lanes)), factor));
  }
  Value valueBase = mul(add(mul(head, keys), firstKey), depth);
  auto overKeys = b.create<scf::ForOp>(
      loc, index(0), index(valid), index(1), outputs,
      [&](OpBuilder &, Location, Value j, ValueRange acc) {
        Value valueRow = add(valueBase, mul(j, depth));
        SmallVector<Value> valueVectors;
        for (int64_t w = 0; w < depthVectors; ++w)
          valueVectors.push_back(
              load(values, add(valueRow, index(w * lanes))));
        SmallVector<Value> next;
        for (int64_t r = 0; r < count; ++r) {
          Value p = broadcast(b.create<memref::LoadOp>(
              loc, scores, ValueRange{add(index(r * blockKeys), j)}));
          for (int64_t w = 0; w < depthVectors; ++w)
            next.push_back(b.create<vector::FMAOp>(
                loc, p, valueVectors[w], acc[r * depthVectors + w]));
        }
        b.create<scf::YieldOp>(loc, next);
      });
  for (int64_t r = 0; r < count; ++r)
    for (int64_t w = 0; w < depthVectors; ++w)
      store(overKeys.getResult(r * depthVectors + w), accumulated,
            index(r * depth + w * lanes));

  SmallVector<Value> next(maxima);
  llvm::append_range(next, sums);
  return next;
}

struct CpuLowerAttentionPass
    : kiln::impl::CpuLowerAttentionPassBase<CpuLowerAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    for (AttentionOp op : bufferForms<AttentionOp>(getOperation())) {
      OpBuilder b(op);
      AttentionEmitter(op, vectorBits, b).emit();
      op.erase();
    }
  }
};

} // namespace
