//===- Attention.cpp - kiln-cpu-lower-attention ---------------------------===//
//
// Attention with an online softmax: a tile of M0 query rows walks the keys
// in blocks of KB. For each block, the scores are a register-blocked
// product like the packed contraction's (broadcast query values, vectors
// of transposed keys) or, from keys as rows, per key a vector of D
// products summed and the vectors of L keys folded into one by a tree of
// shuffles; they are scaled, the mask added, and stored to a small
// scratch; each row's running maximum and sum are updated and the scores
// become probabilities in place; the output rows, kept in a scratch of M0
// x D, are rescaled by exp(old max - new max) and accumulate the block's
// probabilities times its value rows (broadcast probabilities, vectors of
// values). The last step divides by the sums. Memory sees Q, K and V once
// per tile and the output once.
//
// Where a tile's rows do not fit in registers together (keys as rows on
// AVX2, or a large head), a tile of few rows steps through them: a few
// rows at a time take the block, the first step reading it from memory
// and the others from L1; the rows of a step share each key and value row
// they load and widen, the values in parts of the depth whose
// accumulators fit in registers.
//
// Heads, rows and keys may be known only at run time (a decoder over its
// cache): the tiles and blocks are counted then, and the last block's
// keys too. A decode step has one tile per key/value head, too few to
// share among threads: with many keys, each tile's keys split into chunks
// whose parts (maximum, sum, unnormalized rows) are combined at the end.
//
// With past keys and values (a decoder's plain graph, whose past cache
// and new keys the graph also concatenates into its present output), a
// tile walks the past's keys in its buffers, then the new ones in theirs,
// one online softmax over both.
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

/// The running maximum's start and the floor of a masked score: far below
/// any real score, yet finite, so that differences stay finite (a row
/// whose every key is masked averages them, as the plain softmax does).
constexpr float kFarBelow = -1e30f;
/// A mask value at or below this hides its key: half the floor, so that
/// a floored score plus a real one stays below it.
constexpr float kHidden = -5e29f;
/// The score of a lane past the last key: below even a masked score, so
/// that its probability is zero whatever the row's maximum.
constexpr float kPastTheEnd = -2e30f;

/// With 4-bit keys and values, this many query rows or more (a prefill)
/// dequantize them once into f32 buffers; fewer (a decode step, whose
/// grouped heads stack a few rows) dequantize them as they load them.
constexpr int64_t kRowsToDequantizeOnce = 8;

/// Keys split into chunks have at least this many keys per chunk...
constexpr int64_t kKeysPerChunk = 512;
/// ... and there are at most this many (tile, chunk) parts (their scratch
/// is on the stack).
constexpr int64_t kMostPartials = 32;

/// The most rows of a tile whose rows take each block of keys in turn (a
/// decode step's grouped query heads; the block's keys and values, 16 KB
/// at head size 64, stay in L1 for them). More rows take tiles of one.
constexpr int64_t kSteppedRows = 8;

/// How many keys a block holds: a number when known at compile time,
/// else an index value.
struct BlockKeys {
  int64_t known = 0;
  Value symbolic;
};

class AttentionEmitter : KernelEmitterBase {
public:
  AttentionEmitter(AttentionOp op, int64_t vectorBits, OpBuilder &b)
      : KernelEmitterBase(b, op.getLoc()), op(op) {
    auto q = cast<MemRefType>(op.getQuery().getType()).getShape();
    depth = q[2];
    lanes = vectorBits / 32;
    while (depth % lanes)
      lanes /= 2;
    depthVectors = depth / lanes;
    // Each phase of a tile (scores, outputs) fills the accumulators.
    accumulators = accumulatorBudget(vectorBits);
    rowsPerTile = std::clamp<int64_t>(accumulators / depthVectors, 1, 8);
    if (op.getKeyRows()) {
      // Scores from key rows hold, per row, its query vectors and a stack
      // of partly folded key groups (log2 L + 1), beside one key row.
      int64_t registers = vectorBits >= 512 ? 32 : 16;
      int64_t perRow = depthVectors + llvm::Log2_64(lanes) + 1;
      int64_t inRegisters = (registers - depthVectors - 1) / perRow;
      if (inRegisters < 2) {
        // Rows one at a time would each stream every key and value (a
        // decode step's grouped heads, three times): the tile's rows take
        // each block in turn instead, the first reading it from memory and
        // the others from L1.
        stepsRows = true;
        rowsPerTile = kSteppedRows;
        // A few of them still share each key row: with their query vectors
        // read from memory, a row holds its stack of folded key groups
        // (log2 L at most), the key's partial sum and a fold's temporary,
        // beside a widened key vector or two. (Three rows on AVX2, one
        // more than this allows, spilled their stacks and were slower.)
        rowsPerStep = std::clamp<int64_t>(
            (registers - 2) / (llvm::Log2_64(lanes) + 2), 1, rowsPerTile);
      } else {
        rowsPerTile = std::min(inRegisters, rowsPerTile);
      }
    }
    if (!ShapedType::isDynamic(q[1]))
      rowsPerTile = std::min(rowsPerTile, q[1]);
    int64_t rowsInRegisters = stepsRows ? 1 : rowsPerTile;
    blockVectors = std::clamp<int64_t>(accumulators / rowsInRegisters, 1, 4);
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
  /// A vector of `buffer` [i, j, k..k+L), a 3-D view whose rows are
  /// contiguous (other strides may be anything), as f32: bf16 keys and
  /// values (a cache held in bf16) are widened, 4-bit ones dequantized.
  Value load(Value buffer, Value i, Value j, Value k) {
    if (getElementTypeOrSelf(buffer.getType()).isInteger(8))
      return loadFourBit(buffer, i, j, k);
    VectorType stored = storedVectorType(buffer);
    return widened(
        b.create<vector::LoadOp>(loc, stored, buffer, ValueRange{i, j, k}));
  }
  Value maskedLoad(Value buffer, Value i, Value j, Value k, Value mask,
                   float padding) {
    VectorType stored = storedVectorType(buffer);
    Value paddingVector = b.create<arith::ConstantOp>(
        loc, stored,
        DenseElementsAttr::get(
            stored, b.getFloatAttr(stored.getElementType(), padding)));
    return widened(b.create<vector::MaskedLoadOp>(
        loc, stored, buffer, ValueRange{i, j, k}, mask, paddingVector));
  }
  /// Values k..k+L of row [i, j] of 4-bit rows as kiln.pack_kv4 writes
  /// them (L / 2 bytes of nibbles, low first, then the row's f16 scale and
  /// zero point at byte D / 2): (q - z) * s, as kiln.unpack_kv4 computes
  /// it, so that both give the same floats.
  Value loadFourBit(Value buffer, Value i, Value j, Value k) {
    return loadFourBitValues(b, loc, buffer, i, j, k, lanes, depth);
  }
  /// Whether rows of `buffer` load a pair of vectors at a time: bf16, 2L
  /// values in one vector of L i32 words, whose low halves (the even
  /// values) widen by a shift and whose high halves (the odd ones) by a
  /// mask. Widening each vector of L instead takes a zero-extending shuffle
  /// and a shift, both on the ports the FMAs need, and bound a decode
  /// step's attention over a bf16 cache by its arithmetic.
  bool loadsInPairs(Value buffer) {
    return getElementTypeOrSelf(buffer.getType()).isBF16() &&
           depth % (2 * lanes) == 0;
  }
  /// Row [i, j, :] of `buffer` as f32 vectors in its depth order: the
  /// natural one, or, for rows loaded in pairs, vector 2p holding the even
  /// values of [2pL, 2pL + 2L) and vector 2p + 1 the odd ones.
  /// Or only its vectors [first, first + count) in that order (pairs
  /// whole).
  SmallVector<Value> loadDepthRow(Value buffer, Value i, Value j,
                                  int64_t first = 0, int64_t count = -1);
  /// Query row [head, row, :] in the keys' depth order.
  SmallVector<Value> loadQueryRow(Value head, Value row);
  /// Vectors of an output row, in the values' depth order, into the output.
  void storeOutputRow(ArrayRef<Value> vectors, Value head, Value row);
  /// L elements of `buffer`'s type.
  VectorType storedVectorType(Value buffer) {
    return VectorType::get({lanes}, getElementTypeOrSelf(buffer.getType()));
  }
  Value widened(Value vector) {
    if (vector.getType() == vectorType)
      return vector;
    return b.create<arith::ExtFOp>(loc, vectorType, vector);
  }
  /// Asks for every cache line of row `row` of `buffer` [head, row, :],
  /// into the L2 cache: a block ahead is more than L1 holds beside the
  /// block at hand (into L1, Quest's scattered pages took 0.15 ms a step
  /// at 32K tokens and a budget of 2,048, into L2 0.11; dense decode gained
  /// 2%).
  void prefetchRow(Value buffer, Value head, Value row) {
    int64_t extent = cast<MemRefType>(buffer.getType()).getShape().back();
    for (int64_t d = 0; d < extent; d += elementsPerLine(buffer))
      b.create<memref::PrefetchOp>(loc, buffer, ValueRange{head, row, index(d)},
                                   /*isWrite=*/false, /*localityHint=*/2,
                                   /*isDataCache=*/true);
  }
  /// Elements of `buffer` in a 64-byte cache line.
  int64_t elementsPerLine(Value buffer) {
    return 512 / getElementTypeOrSelf(buffer.getType()).getIntOrFloatBitWidth();
  }
  Value loadScratch(Value buffer, Value at) {
    return b.create<vector::LoadOp>(loc, vectorType, buffer, ValueRange{at});
  }
  void storeScratch(Value value, Value buffer, Value at) {
    b.create<vector::StoreOp>(loc, value, buffer, ValueRange{at});
  }
  /// Element `at` + `offset` of a 1-D scratch buffer.
  Value loadScalar(Value buffer, Value at, int64_t offset = 0) {
    return b.create<memref::LoadOp>(loc, buffer,
                                    ValueRange{plus(at, index(offset))});
  }
  void storeScalar(Value value, Value buffer, Value at, int64_t offset = 0) {
    b.create<memref::StoreOp>(loc, value, buffer,
                              ValueRange{plus(at, index(offset))});
  }
  /// `body` for each row r in [0, count) of a tile: unrolled when the
  /// count is a constant, else a loop.
  void forEachRow(Value count, function_ref<void(Value)> body);
  Value lessThan(Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, y);
  }

  /// The tiles of rows, through every key or the listed pages.
  void emitTilings();
  /// Every key, or (when the table lists pages) the listed pages' keys.
  void emitPaged();
  /// Every key: 4-bit rows dequantized once for many rows.
  void emitDense();
  /// The row of the keys and values that key `key` of the sequence
  /// attended is: itself, or with a pages table, the key at its offset in
  /// the page that `head`'s table lists in its slot.
  Value keyAt(Value head, Value key);
  /// The mask's column of the key in row `row` of the keys and values
  /// at hand (a row of the past's or the new ones', or a cached row).
  Value maskColumnOf(Value row) {
    return rowOffset ? add(row, rowOffset) : row;
  }
  /// The tiles, split among the keys or not.
  void emitTiles();
  /// 4-bit rows `buffer` [G, T, D / 2 + 4] dequantized into a new f32
  /// buffer [G, T, D] (the caller frees it); any other buffer as it is.
  Value dequantizedRows(Value buffer);
  /// One work item per tile of rows, each through all the keys.
  void emitDirect();
  /// One work item per tile of rows and chunk of `chunks` of the keys,
  /// then the chunks of each row combined.
  void emitSplit(Value chunks);
  /// Each work item's scratch for one tile.
  void emitTileScratch();
  /// The head of a tile (and, with a mask, the mask head it reads).
  Value headOfTile(Value tile);
  /// The tile of rows from `firstRow` over keys [keyBegin, keyEnd): a full
  /// tile, or the rows left (a row at a time, unless the tile steps
  /// through its rows anyway).
  void emitRows(Value head, Value firstRow, Value keyBegin, Value keyEnd,
                Value slot);
  /// `count` rows over keys [keyBegin, keyEnd): their outputs, or, with a
  /// `slot`, their parts in the chunks' scratch from that slot on.
  void emitTile(Value count, Value head, Value firstRow, Value keyBegin,
                Value keyEnd, Value slot);
  /// The blocks of keys [keyBegin, keyEnd) of the buffers at hand for
  /// the tile's `count` rows.
  void emitKeyRange(Value count, Value head, Value firstRow, Value keyBegin,
                    Value keyEnd);
  /// The tile's `count` rows through one block of `valid` keys from
  /// `firstKey`: together, or rowsPerStep at a time when the tile steps.
  void emitBlockRows(Value count, BlockKeys valid, Value head, Value firstRow,
                     Value firstKey);
  /// The unscaled scores of `count` rows (from `firstRow`) against the
  /// block's keys from `firstKey`, as vectors [row * vectors + vector];
  /// lanes past the block's end are zero.
  SmallVector<Value> emitTransposedKeyScores(int64_t count, int64_t vectors,
                                             Value head, Value firstRow,
                                             Value firstKey,
                                             ArrayRef<Value> laneMasks);
  /// The same from key rows, through the scores' scratch rows `tileRows`.
  SmallVector<Value> emitKeyRowScores(int64_t count, int64_t vectors,
                                      BlockKeys valid, Value head,
                                      Value firstRow, Value firstKey,
                                      ArrayRef<Value> tileRows);
  /// `first` and `second`, each holding `keys` keys' partial sums in
  /// segments of L / keys lanes, as one vector of 2 * keys keys (first's,
  /// then second's) in segments half as long.
  Value foldKeyGroups(Value first, Value second, int64_t keys);
  /// Whether a block of `valid` keys streams key and value rows that
  /// the next block's will follow: a full block of key rows. As it reads
  /// each row, it asks for the row a block ahead (a cache too large for
  /// the caches streams from memory; asking for a whole block at its
  /// start, or leaving the values to the hardware, was slower: 30 layers
  /// of SmolLM2's decode attention at 4,096 tokens on two threads, 4.9 ->
  /// 3.1 ms in bf16, 7.8 -> 5.4 ms in f32).
  bool streamsRows(BlockKeys valid) { return op.getKeyRows() && isFull(valid); }
  bool isFull(BlockKeys valid) {
    return !valid.symbolic && valid.known == blockKeys;
  }
  /// The row of the mask a query row reads.
  Value maskRowOf(Value row);
  /// emitBlock, skipped where blockCounts says the block cannot count.
  void emitMaskedBlock(int64_t count, Value rowBase, BlockKeys valid,
                       Value head, Value firstRow, Value firstKey);
  /// Whether a full block of keys from `firstKey` can change the tile's
  /// rows: not when the mask hides every key of it from every row and
  /// each row has already seen a key it does not hide (whose score then
  /// outweighs a hidden one's by far more than exp can tell), as a causal
  /// mask hides the keys after a row's own. Prefill skips half its blocks.
  /// The rows are the tile's `count` from its row `rowBase`.
  Value blockCounts(int64_t count, Value rowBase, Value head, Value firstRow,
                    Value firstKey);
  /// One block of `valid` keys from `firstKey` for the tile's `count` rows
  /// from its row `rowBase`: scores, the online softmax update of their
  /// maxima and sums, the output scratch rescaled and accumulated.
  void emitBlock(int64_t count, Value rowBase, BlockKeys valid, Value head,
                 Value firstRow, Value firstKey);

  AttentionOp op;
  int64_t depth;
  int64_t lanes, depthVectors, rowsPerTile, blockVectors, blockKeys;
  /// Vectors of accumulators a phase of a tile may hold in registers.
  int64_t accumulators;
  /// Whether the tile's rows take each block in turn, rowsPerStep at a
  /// time (too few fit in registers together for the whole tile).
  bool stepsRows = false;
  int64_t rowsPerStep = 1;
  VectorType vectorType;
  Value query, keysBuffer, values, mask, output;
  /// With past keys and values: their buffers and positions T0. A tile
  /// reads the past's and then the new keys (with rowOffset T0: key
  /// position t is row t - T0 of `keysBuffer` and `values`).
  Value pastKeys, pastValues, pastLength, rowOffset;
  /// Extents: heads G, query rows S, keys T; the mask's heads and rows;
  /// tiles of rows per head and in all.
  Value heads, rows, keys, maskHeads, maskRows, tilesPerHead, tiles;
  /// With the keys split: each (tile, chunk)'s unnormalized rows (in the
  /// values' depth order), and their maxima and sums.
  Value partialRows, partialStats;
  /// Per tile: the mask head its head reads.
  Value maskHead;
  /// Per tile: the block's scores (M0 x KB), the output rows (M0 x D, in
  /// the values' depth order) and each row's running maximum and sum
  /// (M0 x 2).
  Value scores, accumulated, stats;
  /// With pages: the table [G, K] of the pages attended, K and the page's
  /// tokens; `keys` then counts the listed pages' keys.
  Value pageTable, pageSlots;
  int64_t pageSize = 0;
};

void AttentionEmitter::emit() {
  query = op.getQuery();
  keysBuffer = op.getKeys();
  values = op.getValues();
  mask = op.getMask();
  output = op.getInit();
  heads = extent(query, 0);
  rows = extent(query, 1);
  keys = extent(keysBuffer, op.getKeyPositionsDim());
  if (op.hasPast()) {
    pastKeys = op.getPastKeys();
    pastValues = op.getPastValues();
    pastLength = extent(pastKeys, 1);
    keys = plus(pastLength, keys);
  }
  if (mask) {
    maskHeads = extent(mask, 0);
    maskRows = extent(mask, 1);
  }
  if (!stepsRows) {
    emitTilings();
    return;
  }
  // Stepping pays where the rows are few (a decode step, whose grouped
  // heads would each stream the cache). Many rows (a prefill) attend to
  // few keys, which stay in L2 for tiles of one row, and those have no
  // rows' loop for LLVM to hoist the key addresses out of (2-3% of
  // SmolLM2's prefill of 512 tokens).
  auto singleRows = [&] {
    stepsRows = false;
    rowsPerTile = 1;
  };
  if (std::optional<int64_t> staticRows = getConstantIntValue(rows)) {
    if (*staticRows > kSteppedRows)
      singleRows();
    emitTilings();
    return;
  }
  Value few = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule, rows,
                                      index(kSteppedRows));
  auto branch = b.create<scf::IfOp>(loc, few, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitTilings();
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  singleRows();
  emitTilings();
}

void AttentionEmitter::emitTilings() {
  tilesPerHead =
      dividedBy(plus(rows, index(rowsPerTile - 1)), index(rowsPerTile));
  tiles = times(heads, tilesPerHead);
  // emitPaged counts the listed keys instead.
  Value allKeys = keys;
  if (op.getPages())
    emitPaged();
  else
    emitDense();
  keys = allKeys;
  pageTable = {};
}

void AttentionEmitter::emitPaged() {
  // A table whose first entry is negative asks for every key.
  Value table = op.getPages();
  Value first =
      b.create<memref::LoadOp>(loc, table, ValueRange{index(0), index(0)});
  Value everyKey =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, first,
                              b.create<arith::ConstantIntOp>(loc, 0, 32));
  auto branch = b.create<scf::IfOp>(loc, everyKey, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitDense();
  // The listed pages as one sequence of keys: all full but the last,
  // which is the cache's last page (the current one).
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  pageTable = table;
  pageSize = *op.getPageSize();
  pageSlots = extent(table, 1);
  Value lastStart = mul(dividedBy(sub(keys, 1), index(pageSize)), pageSize);
  keys = plus(mul(sub(pageSlots, 1), pageSize),
              b.create<arith::SubIOp>(loc, keys, lastStart));
  // A decode step's few rows read each listed key and value once, as
  // they are (dequantized as they are loaded, for 4-bit rows).
  emitTiles();
}

Value AttentionEmitter::keyAt(Value head, Value key) {
  if (!pageTable)
    return rowOffset ? b.create<arith::SubIOp>(loc, key, rowOffset) : key;
  Value slot = b.create<arith::MinUIOp>(loc, dividedBy(key, index(pageSize)),
                                        sub(pageSlots, 1));
  Value page = b.create<arith::IndexCastOp>(
      loc, b.getIndexType(),
      b.create<memref::LoadOp>(loc, pageTable, ValueRange{head, slot}));
  return add(mul(page, pageSize), remainder(key, index(pageSize)));
}

void AttentionEmitter::emitDense() {
  if (!getElementTypeOrSelf(keysBuffer.getType()).isInteger(8) &&
      !getElementTypeOrSelf(values.getType()).isInteger(8)) {
    emitTiles();
    return;
  }
  // 4-bit rows: every tile of query rows dequantizes every key and value
  // it reads. A few rows (a decode step) read them so, from the cache;
  // many (a prefill) dequantize them once into f32 buffers instead.
  Value many = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, rows,
                                       index(kRowsToDequantizeOnce));
  auto branch = b.create<scf::IfOp>(loc, many, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  Value packedKeys = keysBuffer, packedValues = values;
  keysBuffer = dequantizedRows(packedKeys);
  values = dequantizedRows(packedValues);
  emitTiles();
  for (auto [buffer, packed] :
       {std::pair(keysBuffer, packedKeys), std::pair(values, packedValues)})
    if (buffer != packed)
      b.create<memref::DeallocOp>(loc, buffer);
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  keysBuffer = packedKeys;
  values = packedValues;
  emitTiles();
}

Value AttentionEmitter::dequantizedRows(Value buffer) {
  if (!getElementTypeOrSelf(buffer.getType()).isInteger(8))
    return buffer;
  Value count = extent(buffer, 0), positions = extent(buffer, 1);
  Value rowsOut = b.create<memref::AllocOp>(
      loc,
      MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic, depth},
                      b.getF32Type()),
      ValueRange{count, positions});
  auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0), index(0)},
                                        ValueRange{count, positions},
                                        ValueRange{index(1), index(1)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value head = loop.getInductionVars()[0], row = loop.getInductionVars()[1];
  for (int64_t w = 0; w < depthVectors; ++w)
    b.create<vector::StoreOp>(loc,
                              loadFourBit(buffer, head, row, index(w * lanes)),
                              rowsOut, ValueRange{head, row, index(w * lanes)});
  return rowsOut;
}

void AttentionEmitter::emitTiles() {
  // Split the keys when the tiles are too few to share out (a decode
  // step has a tile per key/value head) and the keys are many.
  Value chunks = dividedBy(keys, index(kKeysPerChunk));
  Value room = dividedBy(index(kMostPartials),
                         b.createOrFold<arith::MaxUIOp>(loc, tiles, index(1)));
  chunks = b.createOrFold<arith::MinUIOp>(loc, chunks, room);
  std::optional<int64_t> staticChunks = getConstantIntValue(chunks);
  if (staticChunks) {
    if (*staticChunks >= 2)
      emitSplit(chunks);
    else
      emitDirect();
    return;
  }
  Value split =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, chunks, index(2));
  auto branch = b.create<scf::IfOp>(loc, split, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitSplit(chunks);
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  emitDirect();
}

void AttentionEmitter::emitTileScratch() {
  scores = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rowsPerTile * blockKeys}, b.getF32Type()));
  accumulated = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rowsPerTile * depth}, b.getF32Type()));
  stats = b.create<memref::AllocaOp>(
      loc, MemRefType::get({rowsPerTile * 2}, b.getF32Type()));
}

Value AttentionEmitter::headOfTile(Value tile) {
  Value head = dividedBy(tile, tilesPerHead);
  if (mask) {
    // Consecutive heads share a mask head (a batch's heads, one mask).
    std::optional<int64_t> one = getConstantIntValue(maskHeads);
    maskHead =
        one == 1 ? index(0) : dividedBy(head, dividedBy(heads, maskHeads));
  }
  return head;
}

void AttentionEmitter::emitDirect() {
  auto loop = b.create<scf::ParallelOp>(
      loc, ValueRange{index(0)}, ValueRange{tiles}, ValueRange{index(1)});
  markThreaded(loop, operationsOf({heads, rows, keys}, 4 * depth));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  emitTileScratch();
  Value tile = loop.getInductionVars()[0];
  Value head = headOfTile(tile);
  Value firstRow = mul(remainder(tile, tilesPerHead), rowsPerTile);
  emitRows(head, firstRow, index(0), keys, /*slot=*/{});
}

void AttentionEmitter::emitSplit(Value chunks) {
  // Each (tile, chunk of keys) leaves its rows' maximum, sum and
  // unnormalized output; a last pass weighs the chunks together.
  partialRows = b.create<memref::AllocaOp>(
      loc,
      MemRefType::get({kMostPartials * rowsPerTile * depth}, b.getF32Type()));
  partialStats = b.create<memref::AllocaOp>(
      loc, MemRefType::get({kMostPartials * rowsPerTile * 2}, b.getF32Type()));
  // Chunks of whole blocks; the last may be shorter.
  Value perChunk = dividedBy(plus(keys, sub(chunks, 1)), chunks);
  Value chunkKeys =
      mul(dividedBy(plus(perChunk, index(blockKeys - 1)), index(blockKeys)),
          blockKeys);
  chunks = dividedBy(plus(keys, sub(chunkKeys, 1)), chunkKeys);
  {
    auto loop = b.create<scf::ParallelOp>(loc, ValueRange{index(0)},
                                          ValueRange{times(tiles, chunks)},
                                          ValueRange{index(1)});
    markThreaded(loop, operationsOf({heads, rows, keys}, 4 * depth));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    emitTileScratch();
    Value item = loop.getInductionVars()[0];
    Value tile = dividedBy(item, chunks);
    Value head = headOfTile(tile);
    Value firstRow = mul(remainder(tile, tilesPerHead), rowsPerTile);
    Value keyBegin = times(remainder(item, chunks), chunkKeys);
    Value keyEnd =
        b.create<arith::MinUIOp>(loc, plus(keyBegin, chunkKeys), keys);
    emitRows(head, firstRow, keyBegin, keyEnd, mul(item, rowsPerTile));
  }

  // The chunks of each row: M = max m_c, L = sum l_c e^(m_c - M), the
  // output sum acc_c e^(m_c - M) / L. Few rows: on the calling thread.
  auto overTiles = b.create<scf::ForOp>(loc, index(0), tiles, index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(overTiles.getBody());
  Value tile = overTiles.getInductionVar();
  Value head = dividedBy(tile, tilesPerHead);
  Value firstRow = mul(remainder(tile, tilesPerHead), rowsPerTile);
  Value rowsHere = b.create<arith::MinUIOp>(
      loc, index(rowsPerTile), b.create<arith::SubIOp>(loc, rows, firstRow));
  auto overRows = b.create<scf::ForOp>(loc, index(0), rowsHere, index(1));
  b.setInsertionPointToStart(overRows.getBody());
  Value r = overRows.getInductionVar();
  auto slotOf = [&](Value chunk) {
    return add(mul(add(times(tile, chunks), chunk), rowsPerTile), r);
  };
  auto stat = [&](Value slot, int64_t which) {
    return b
        .create<memref::LoadOp>(loc, partialStats,
                                ValueRange{add(mul(slot, 2), index(which))})
        .getResult();
  };
  auto highest = b.create<scf::ForOp>(
      loc, index(0), chunks, index(1), ValueRange{scalar(kFarBelow)},
      [&](OpBuilder &, Location, Value chunk, ValueRange state) {
        b.create<scf::YieldOp>(loc,
                               ValueRange{b.create<arith::MaximumFOp>(
                                   loc, state[0], stat(slotOf(chunk), 0))});
      });
  Value top = highest.getResult(0);
  SmallVector<Value> start(depthVectors, splat(0.0f));
  start.push_back(scalar(0.0f));
  auto weighed = b.create<scf::ForOp>(
      loc, index(0), chunks, index(1), start,
      [&](OpBuilder &, Location, Value chunk, ValueRange state) {
        Value slot = slotOf(chunk);
        Value weight = b.create<math::ExpOp>(
            loc, b.create<arith::SubFOp>(loc, stat(slot, 0), top));
        Value spread = broadcast(weight);
        SmallVector<Value> next;
        for (int64_t w = 0; w < depthVectors; ++w) {
          Value part = b.create<vector::LoadOp>(
              loc, vectorType, partialRows,
              ValueRange{add(mul(slot, depth), index(w * lanes))});
          next.push_back(b.create<vector::FMAOp>(loc, part, spread, state[w]));
        }
        next.push_back(b.create<arith::AddFOp>(
            loc, state[depthVectors],
            b.create<arith::MulFOp>(loc, stat(slot, 1), weight)));
        b.create<scf::YieldOp>(loc, next);
      });
  Value inverse = broadcast(b.create<arith::DivFOp>(
      loc, scalar(1.0f), weighed.getResult(depthVectors)));
  SmallVector<Value> outputRow;
  for (int64_t w = 0; w < depthVectors; ++w)
    outputRow.push_back(
        b.create<arith::MulFOp>(loc, weighed.getResult(w), inverse));
  storeOutputRow(outputRow, head, add(firstRow, r));
}

SmallVector<Value> AttentionEmitter::loadDepthRow(Value buffer, Value i,
                                                  Value j, int64_t first,
                                                  int64_t count) {
  int64_t end = count < 0 ? depthVectors : first + count;
  SmallVector<Value> vectors;
  if (!loadsInPairs(buffer)) {
    for (int64_t w = first; w < end; ++w)
      vectors.push_back(load(buffer, i, j, index(w * lanes)));
    return vectors;
  }
  auto pairType = VectorType::get({2 * lanes}, b.getBF16Type());
  auto wordType = VectorType::get({lanes}, b.getI32Type());
  for (int64_t p = first / 2; p < end / 2; ++p) {
    auto [even, odd] = splitBf16Pairs(
        b, loc,
        b.create<vector::BitCastOp>(
            loc, wordType,
            b.create<vector::LoadOp>(loc, pairType, buffer,
                                     ValueRange{i, j, index(2 * lanes * p)})));
    vectors.push_back(even);
    vectors.push_back(odd);
  }
  return vectors;
}

SmallVector<Value> AttentionEmitter::loadQueryRow(Value head, Value row) {
  SmallVector<Value> vectors;
  for (int64_t w = 0; w < depthVectors; ++w)
    vectors.push_back(load(query, head, row, index(w * lanes)));
  if (!loadsInPairs(keysBuffer))
    return vectors;
  SmallVector<int64_t> evens, odds;
  for (int64_t l = 0; l < lanes; ++l) {
    evens.push_back(2 * l);
    odds.push_back(2 * l + 1);
  }
  SmallVector<Value> paired;
  for (int64_t p = 0; p < depthVectors / 2; ++p)
    for (ArrayRef<int64_t> half : {evens, odds})
      paired.push_back(b.create<vector::ShuffleOp>(loc, vectors[2 * p],
                                                   vectors[2 * p + 1], half));
  return paired;
}

void AttentionEmitter::storeOutputRow(ArrayRef<Value> vectors, Value head,
                                      Value row) {
  auto store = [&](Value vector, int64_t w) {
    b.create<vector::StoreOp>(loc, vector, output,
                              ValueRange{head, row, index(w * lanes)});
  };
  if (!loadsInPairs(values)) {
    for (int64_t w = 0; w < depthVectors; ++w)
      store(vectors[w], w);
    return;
  }
  // Value n of a pair's 2L: the even vector's lane n / 2 or the odd's.
  SmallVector<int64_t> interleaved;
  for (int64_t n = 0; n < 2 * lanes; ++n)
    interleaved.push_back(n % 2 ? lanes + n / 2 : n / 2);
  ArrayRef<int64_t> all(interleaved);
  for (int64_t p = 0; p < depthVectors / 2; ++p)
    for (int64_t half : {0, 1})
      store(b.create<vector::ShuffleOp>(loc, vectors[2 * p], vectors[2 * p + 1],
                                        all.slice(half * lanes, lanes)),
            2 * p + half);
}

void AttentionEmitter::forEachRow(Value count, function_ref<void(Value)> body) {
  if (std::optional<int64_t> known = getConstantIntValue(count)) {
    for (int64_t r = 0; r < *known; ++r)
      body(index(r));
    return;
  }
  auto loop = b.create<scf::ForOp>(loc, index(0), count, index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

void AttentionEmitter::emitRows(Value head, Value firstRow, Value keyBegin,
                                Value keyEnd, Value slot) {
  if (stepsRows) {
    Value left = b.createOrFold<arith::SubIOp>(loc, rows, firstRow);
    emitTile(b.createOrFold<arith::MinUIOp>(loc, index(rowsPerTile), left),
             head, firstRow, keyBegin, keyEnd, slot);
    return;
  }
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  if (staticRows && *staticRows % rowsPerTile == 0) {
    emitTile(index(rowsPerTile), head, firstRow, keyBegin, keyEnd, slot);
    return;
  }
  Value isFull = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::ule, add(firstRow, index(rowsPerTile)), rows);
  auto branch = b.create<scf::IfOp>(loc, isFull, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitTile(index(rowsPerTile), head, firstRow, keyBegin, keyEnd, slot);
  // The last, partial tile: a row at a time.
  b.setInsertionPointToStart(&branch.getElseRegion().front());
  auto rest = b.create<scf::ForOp>(loc, firstRow, rows, index(1));
  b.setInsertionPointToStart(rest.getBody());
  Value row = rest.getInductionVar();
  emitTile(index(1), head, row, keyBegin, keyEnd,
           slot ? add(slot, b.create<arith::SubIOp>(loc, row, firstRow))
                : Value());
}

void AttentionEmitter::emitTile(Value count, Value head, Value firstRow,
                                Value keyBegin, Value keyEnd, Value slot) {
  // Each row's output starts at zero, its running maximum far below and
  // its sum at zero.
  forEachRow(count, [&](Value r) {
    for (int64_t w = 0; w < depthVectors; ++w)
      storeScratch(splat(0.0f), accumulated,
                   plus(times(r, index(depth)), index(w * lanes)));
    Value at = times(r, index(2));
    storeScalar(scalar(kFarBelow), stats, at);
    storeScalar(scalar(0.0f), stats, at, 1);
  });
  if (!pastKeys) {
    emitKeyRange(count, head, firstRow, keyBegin, keyEnd);
  } else {
    // The past's keys of [keyBegin, keyEnd) from its buffers, then the
    // new ones from theirs.
    Value middle = b.create<arith::MinUIOp>(
        loc, b.create<arith::MaxUIOp>(loc, pastLength, keyBegin), keyEnd);
    Value newKeys = keysBuffer, newValues = values;
    keysBuffer = pastKeys;
    values = pastValues;
    emitKeyRange(count, head, firstRow, keyBegin, middle);
    keysBuffer = newKeys;
    values = newValues;
    rowOffset = pastLength;
    emitKeyRange(count, head, firstRow, middle, keyEnd);
    rowOffset = {};
  }

  forEachRow(count, [&](Value r) {
    Value sum = loadScalar(stats, times(r, index(2)), 1);
    Value rowStart = times(r, index(depth));
    if (slot) {
      // A chunk's part: the row as accumulated, its maximum and sum.
      Value at = add(slot, r);
      for (int64_t w = 0; w < depthVectors; ++w)
        b.create<vector::StoreOp>(
            loc, loadScratch(accumulated, plus(rowStart, index(w * lanes))),
            partialRows, ValueRange{add(mul(at, depth), index(w * lanes))});
      storeScalar(loadScalar(stats, times(r, index(2))), partialStats,
                  mul(at, 2));
      storeScalar(sum, partialStats, mul(at, 2), 1);
      return;
    }
    // The output row over its sum.
    Value inverse = broadcast(b.create<arith::DivFOp>(loc, scalar(1.0f), sum));
    SmallVector<Value> outputRow;
    for (int64_t w = 0; w < depthVectors; ++w) {
      Value acc = loadScratch(accumulated, plus(rowStart, index(w * lanes)));
      outputRow.push_back(b.create<arith::MulFOp>(loc, acc, inverse));
    }
    storeOutputRow(outputRow, head, add(firstRow, r));
  });
}

void AttentionEmitter::emitKeyRange(Value count, Value head, Value firstRow,
                                    Value keyBegin, Value keyEnd) {
  std::optional<int64_t> staticBegin = getConstantIntValue(keyBegin);
  std::optional<int64_t> staticEnd = getConstantIntValue(keyEnd);
  std::optional<int64_t> staticKeys;
  if (staticBegin && staticEnd)
    staticKeys = *staticEnd - *staticBegin;
  Value length = b.createOrFold<arith::SubIOp>(loc, keyEnd, keyBegin);
  Value fullEnd =
      staticKeys
          ? index(*staticBegin + *staticKeys / blockKeys * blockKeys)
          : add(keyBegin, mul(dividedBy(length, index(blockKeys)), blockKeys));
  if (!staticKeys || *staticKeys >= blockKeys) {
    auto blocks =
        b.create<scf::ForOp>(loc, keyBegin, fullEnd, index(blockKeys));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blocks.getBody());
    emitBlockRows(count, {blockKeys, {}}, head, firstRow,
                  blocks.getInductionVar());
  }
  if (staticKeys && *staticKeys % blockKeys) {
    emitBlockRows(count, {*staticKeys % blockKeys, {}}, head, firstRow,
                  fullEnd);
  } else if (!staticKeys) {
    // The last block's keys, known at run time: none, or a masked block.
    Value rest = remainder(length, index(blockKeys));
    Value any =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, rest, index(0));
    auto branch = b.create<scf::IfOp>(loc, any, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    emitBlockRows(count, {0, rest}, head, firstRow, fullEnd);
  }
}

void AttentionEmitter::emitMaskedBlock(int64_t count, Value rowBase,
                                       BlockKeys valid, Value head,
                                       Value firstRow, Value firstKey) {
  if (!mask || !isFull(valid)) {
    emitBlock(count, rowBase, valid, head, firstRow, firstKey);
    return;
  }
  auto branch = b.create<scf::IfOp>(
      loc, blockCounts(count, rowBase, head, firstRow, firstKey),
      /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  emitBlock(count, rowBase, valid, head, firstRow, firstKey);
}

void AttentionEmitter::emitBlockRows(Value count, BlockKeys valid, Value head,
                                     Value firstRow, Value firstKey) {
  if (!stepsRows) {
    emitMaskedBlock(*getConstantIntValue(count), index(0), valid, head,
                    firstRow, firstKey);
    return;
  }
  // Loops even over a known count: unrolled, the steps' loads of the same
  // keys would merge into values held across the block. Each step asks
  // for the block ahead (asking in the first alone was 4-7% slower from
  // memory). Steps of two rows, not one (a decode step's three grouped
  // rows: a step of two, then one): 30 SmolLM2-shaped attentions over
  // 4,096 bf16 keys, two threads, 5.4 -> 4.65 ms; one thread, 9.8 -> 9.0.
  Value stepped = mul(dividedBy(count, index(rowsPerStep)), rowsPerStep);
  auto step = [&](int64_t rowsHere, Value from, Value to) {
    auto loop = b.create<scf::ForOp>(loc, from, to, index(rowsHere));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    emitMaskedBlock(rowsHere, loop.getInductionVar(), valid, head, firstRow,
                    firstKey);
  };
  step(rowsPerStep, index(0), stepped);
  if (rowsPerStep > 1)
    step(1, stepped, count);
}

SmallVector<Value> AttentionEmitter::emitTransposedKeyScores(
    int64_t count, int64_t vectors, Value head, Value firstRow, Value firstKey,
    ArrayRef<Value> laneMasks) {
  // acc[r][v] = sum over d of q[r][d] * kt[d][firstKey + v * L]. A vector
  // with a mask loads under it.
  SmallVector<Value> zeros(count * vectors, splat(0.0f));
  auto overDepth = b.create<scf::ForOp>(
      loc, index(0), index(depth), index(1), zeros,
      [&](OpBuilder &, Location, Value d, ValueRange acc) {
        SmallVector<Value> keyVectors;
        for (int64_t v = 0; v < vectors; ++v) {
          Value at = add(firstKey, index(v * lanes));
          keyVectors.push_back(laneMasks[v] ? maskedLoad(keysBuffer, head, d,
                                                         at, laneMasks[v], 0.0f)
                                            : load(keysBuffer, head, d, at));
        }
        SmallVector<Value> next;
        for (int64_t r = 0; r < count; ++r) {
          Value q = broadcast(b.create<memref::LoadOp>(
              loc, query, ValueRange{head, add(firstRow, index(r)), d}));
          for (int64_t v = 0; v < vectors; ++v)
            next.push_back(b.create<vector::FMAOp>(loc, q, keyVectors[v],
                                                   acc[r * vectors + v]));
        }
        b.create<scf::YieldOp>(loc, next);
      });
  return SmallVector<Value>(overDepth.getResults());
}

Value AttentionEmitter::foldKeyGroups(Value first, Value second, int64_t keys) {
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

SmallVector<Value>
AttentionEmitter::emitKeyRowScores(int64_t count, int64_t vectors,
                                   BlockKeys valid, Value head, Value firstRow,
                                   Value firstKey, ArrayRef<Value> tileRows) {
  SmallVector<SmallVector<Value>> queryVectors;
  for (int64_t r = 0; r < count; ++r)
    queryVectors.push_back(loadQueryRow(head, add(firstRow, index(r))));
  // Past a block's end, keys are read again from its last one (in bounds;
  // their scores are masked off).
  Value lastKey;
  if (!isFull(valid))
    lastKey = add(firstKey, valid.symbolic ? sub(valid.symbolic, 1)
                                           : index(valid.known - 1));
  auto scoresAt = [&](int64_t r, Value v) {
    return plus(times(tileRows[r], index(blockKeys)), times(v, index(lanes)));
  };
  // A loop over the block's vectors of keys, into the scores' scratch: the
  // straight-line code of a whole block let LLVM hoist its keys' loads and
  // spill them (SmolLM2's decode attention over a bf16 cache spent twice
  // as long on the scores as on the values).
  auto overVectors =
      b.create<scf::ForOp>(loc, index(0), index(vectors), index(1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(overVectors.getBody());
    Value v = overVectors.getInductionVar();
    Value first = add(firstKey, times(v, index(lanes)));
    // In a block known to be whole, a vector's keys are the rows from its
    // first's (pages are whole vectors of keys), and the rows a block ahead
    // are asked for through the table.
    Value vectorRow, aheadRow;
    if (pageTable && !valid.symbolic) {
      vectorRow = keyAt(head, first);
      if (streamsRows(valid))
        aheadRow = keyAt(head, add(first, index(blockKeys)));
    }
    // Per row, a stack of (vector, keys in it): two groups of the same
    // size fold into one as soon as both exist, like a binary counter,
    // so that few vectors are live at once.
    SmallVector<SmallVector<std::pair<Value, int64_t>>> stacks(count);
    for (int64_t t = 0; t < lanes; ++t) {
      Value at = add(first, index(t));
      if (lastKey)
        at = b.create<arith::MinUIOp>(loc, at, lastKey);
      Value row = vectorRow ? add(vectorRow, index(t)) : keyAt(head, at);
      SmallVector<Value> keyRow = loadDepthRow(keysBuffer, head, row);
      if (streamsRows(valid))
        prefetchRow(keysBuffer, head,
                    aheadRow ? add(aheadRow, index(t))
                             : keyAt(head, add(at, index(blockKeys))));
      for (int64_t r = 0; r < count; ++r) {
        Value partial =
            b.create<arith::MulFOp>(loc, queryVectors[r][0], keyRow[0]);
        for (int64_t w = 1; w < depthVectors; ++w)
          partial = b.create<vector::FMAOp>(loc, queryVectors[r][w], keyRow[w],
                                            partial);
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
      storeScratch(stacks[r].front().first, scores, scoresAt(r, v));
  }
  SmallVector<Value> scoreVectors;
  for (int64_t r = 0; r < count; ++r)
    for (int64_t v = 0; v < vectors; ++v)
      scoreVectors.push_back(loadScratch(scores, scoresAt(r, index(v))));
  return scoreVectors;
}

Value AttentionEmitter::maskRowOf(Value row) {
  std::optional<int64_t> one = getConstantIntValue(maskRows);
  return one == 1 ? index(0) : remainder(row, maskRows);
}

Value AttentionEmitter::blockCounts(int64_t count, Value rowBase, Value head,
                                    Value firstRow, Value firstKey) {
  Value hidden = splat(kHidden);
  Value highest;
  for (int64_t r = 0; r < count; ++r) {
    Value maskRow = maskRowOf(add(firstRow, plus(rowBase, index(r))));
    for (int64_t v = 0; v < blockVectors; ++v) {
      Value added =
          load(mask, maskHead, maskRow,
               maskColumnOf(keyAt(head, add(firstKey, index(v * lanes)))));
      highest =
          highest ? b.create<arith::MaximumFOp>(loc, highest, added) : added;
    }
  }
  Value anyShown = b.create<vector::ReductionOp>(
      loc, vector::CombiningKind::OR,
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, highest, hidden));
  Value anyUnseen;
  for (int64_t r = 0; r < count; ++r) {
    Value maximum = loadScalar(stats, times(plus(rowBase, index(r)), index(2)));
    Value unseen = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLE,
                                           maximum, scalar(kHidden));
    anyUnseen =
        anyUnseen ? b.create<arith::OrIOp>(loc, anyUnseen, unseen) : unseen;
  }
  return b.create<arith::OrIOp>(loc, anyShown, anyUnseen);
}

void AttentionEmitter::emitBlock(int64_t count, Value rowBase, BlockKeys valid,
                                 Value head, Value firstRow, Value firstKey) {
  // The rows of the tile's scratch, and the first of the query's.
  SmallVector<Value> tileRows;
  for (int64_t r = 0; r < count; ++r)
    tileRows.push_back(plus(rowBase, index(r)));
  firstRow = plus(firstRow, rowBase);
  // A block known to be full or short needs a mask on its last vector at
  // most; one whose length comes at run time masks every vector.
  int64_t vectors =
      valid.symbolic ? blockVectors : llvm::divideCeil(valid.known, lanes);
  auto maskType = VectorType::get({lanes}, b.getI1Type());
  SmallVector<Value> laneMasks(vectors);
  for (int64_t v = 0; v < vectors; ++v) {
    if (valid.symbolic)
      laneMasks[v] = b.create<vector::CreateMaskOp>(
          loc, maskType,
          ValueRange{
              b.create<arith::SubIOp>(loc, valid.symbolic, index(v * lanes))});
    else if (v + 1 == vectors && valid.known % lanes)
      laneMasks[v] = b.create<vector::CreateMaskOp>(
          loc, maskType, ValueRange{index(valid.known % lanes)});
  }
  // The row of each vector's first key, read from the pages table once
  // per block for the keys, the mask and the values.
  SmallVector<Value> vectorRows;
  for (int64_t v = 0; v < vectors; ++v)
    vectorRows.push_back(keyAt(head, add(firstKey, index(v * lanes))));
  SmallVector<Value> rawScores =
      op.getKeyRows() ? emitKeyRowScores(count, vectors, valid, head, firstRow,
                                         firstKey, tileRows)
                      : emitTransposedKeyScores(count, vectors, head, firstRow,
                                                firstKey, laneMasks);

  // The online softmax: per row, the new maximum, the factor that rescales
  // what came before, the block's probabilities (in place) and sum.
  Value scale = splat(op.getScale().convertToFloat());
  SmallVector<Value> factors;
  for (int64_t r = 0; r < count; ++r) {
    Value statsAt = times(tileRows[r], index(2));
    Value oldMax = loadScalar(stats, statsAt);
    Value oldSum = loadScalar(stats, statsAt, 1);
    Value maskRow = mask ? maskRowOf(add(firstRow, index(r))) : Value();
    SmallVector<Value> scaled;
    for (int64_t v = 0; v < vectors; ++v) {
      Value s = b.create<arith::MulFOp>(loc, rawScores[r * vectors + v], scale);
      if (mask) {
        // Within a page: pages are whole vectors of keys.
        Value at = maskColumnOf(vectorRows[v]);
        Value added = laneMasks[v] ? maskedLoad(mask, maskHead, maskRow, at,
                                                laneMasks[v], 0.0f)
                                   : load(mask, maskHead, maskRow, at);
        // A masked key's score is floored, not -inf or -FLT_MAX, so that
        // differences of scores stay finite.
        s = b.create<arith::AddFOp>(
            loc, s, b.create<arith::MaximumFOp>(loc, added, splat(kFarBelow)));
      }
      if (laneMasks[v])
        s = b.create<arith::SelectOp>(loc, laneMasks[v], s, splat(kPastTheEnd));
      scaled.push_back(s);
    }
    Value blockMax = scaled[0];
    for (int64_t v = 1; v < vectors; ++v)
      blockMax = b.create<arith::MaximumFOp>(loc, blockMax, scaled[v]);
    Value newMax = b.create<arith::MaximumFOp>(
        loc, oldMax,
        b.create<vector::ReductionOp>(loc, vector::CombiningKind::MAXIMUMF,
                                      blockMax));
    Value factor = b.create<math::ExpOp>(
        loc, b.create<arith::SubFOp>(loc, oldMax, newMax));
    Value sum = splat(0.0f);
    for (int64_t v = 0; v < vectors; ++v) {
      Value p = b.create<math::ExpOp>(
          loc, b.create<arith::SubFOp>(loc, scaled[v], broadcast(newMax)));
      sum = b.create<arith::AddFOp>(loc, sum, p);
      storeScratch(
          p, scores,
          plus(times(tileRows[r], index(blockKeys)), index(v * lanes)));
    }
    Value blockSum =
        b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, sum);
    factors.push_back(factor);
    storeScalar(newMax, stats, statsAt);
    storeScalar(
        b.create<arith::AddFOp>(
            loc, b.create<arith::MulFOp>(loc, oldSum, factor), blockSum),
        stats, statsAt, 1);
  }

  // The output rows: rescaled, then += p[r][j] * v[firstKey + j].
  SmallVector<Value> outputs;
  for (int64_t r = 0; r < count; ++r) {
    Value factor = broadcast(factors[r]);
    Value rowStart = times(tileRows[r], index(depth));
    for (int64_t w = 0; w < depthVectors; ++w)
      outputs.push_back(b.create<arith::MulFOp>(
          loc, loadScratch(accumulated, plus(rowStart, index(w * lanes))),
          factor));
  }
  // The depth in parts whose rows' accumulators fit the budget: rows that
  // step share each value row, whose accumulators would not fit whole. (A
  // budget that leaves room for the widened value vectors too, in parts
  // half as long, was no faster: more loops, more broadcasts.)
  int64_t partVectors = depthVectors;
  int64_t unit = loadsInPairs(values) ? 2 : 1;
  while (count * partVectors > accumulators && partVectors % (2 * unit) == 0)
    partVectors /= 2;
  for (int64_t part = 0; part < depthVectors; part += partVectors) {
    // Keys [begin, end) of the block; with `base`, key j's row is base + j
    // - begin (a vector of keys within one page), else found by keyAt. The
    // first part asks for the rows a block ahead.
    bool asksAhead = streamsRows(valid) && part == 0;
    auto accumulateValues = [&](Value begin, Value end, Value base,
                                Value aheadBase, ValueRange start) {
      auto overKeys = b.create<scf::ForOp>(
          loc, begin, end, index(1), start,
          [&](OpBuilder &, Location, Value j, ValueRange acc) {
            Value key = add(firstKey, j);
            Value row = base ? add(base, b.create<arith::SubIOp>(loc, j, begin))
                             : keyAt(head, key);
            if (asksAhead)
              prefetchRow(values, head,
                          aheadBase ? add(aheadBase, b.create<arith::SubIOp>(
                                                         loc, j, begin))
                                    : keyAt(head, add(key, index(blockKeys))));
            SmallVector<Value> valueVectors =
                loadDepthRow(values, head, row, part, partVectors);
            SmallVector<Value> next;
            for (int64_t r = 0; r < count; ++r) {
              Value p = broadcast(loadScalar(
                  scores, add(times(tileRows[r], index(blockKeys)), j)));
              for (int64_t w = 0; w < partVectors; ++w)
                next.push_back(b.create<vector::FMAOp>(
                    loc, p, valueVectors[w], acc[r * partVectors + w]));
            }
            b.create<scf::YieldOp>(loc, next);
          });
      return SmallVector<Value>(overKeys.getResults());
    };
    SmallVector<Value> summed;
    for (int64_t r = 0; r < count; ++r)
      for (int64_t w = part; w < part + partVectors; ++w)
        summed.push_back(outputs[r * depthVectors + w]);
    if (pageTable && !valid.symbolic) {
      // The table read once per vector of keys.
      for (int64_t v = 0; v * lanes < valid.known; ++v) {
        Value first = add(firstKey, index(v * lanes));
        Value ahead =
            asksAhead ? keyAt(head, add(first, index(blockKeys))) : Value();
        summed = accumulateValues(index(v * lanes),
                                  index(std::min(valid.known, (v + 1) * lanes)),
                                  vectorRows[v], ahead, summed);
      }
    } else {
      summed = accumulateValues(
          index(0), valid.symbolic ? valid.symbolic : index(valid.known), {},
          {}, summed);
    }
    for (int64_t r = 0; r < count; ++r)
      for (int64_t w = 0; w < partVectors; ++w)
        storeScratch(
            summed[r * partVectors + w], accumulated,
            plus(times(tileRows[r], index(depth)), index((part + w) * lanes)));
  }
}

struct CpuLowerAttentionPass
    : kiln::impl::CpuLowerAttentionPassBase<CpuLowerAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkVectorBits(getOperation(), vectorBits)))
      return signalPassFailure();
    for (AttentionOp op : bufferForms<AttentionOp>(getOperation())) {
      if (std::optional<uint64_t> page = op.getPageSize();
          page && *page % (vectorBits / 32)) {
        op.emitOpError("needs pages of whole vectors of keys (")
            << vectorBits / 32 << "), not " << *page;
        return signalPassFailure();
      }
      OpBuilder b(op);
      AttentionEmitter(op, vectorBits, b).emit();
      op.erase();
    }
  }
};

} // namespace
