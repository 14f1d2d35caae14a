//===- GemmKernel.cpp - the tiled GEMM kernels ----------------------------===//
//
// Every variant computes a 64x64 tile of C per block, walking K in steps
// staged through shared memory (zero-filled outside the matrices, so any M,
// N and K work), then adds its sums to C. Operands are read through their
// strides, so transposed, broadcast and batched operands need no copies,
// and a convolution's input tile is gathered straight from the padded
// input (implicit GEMM: no im2col buffer). Each tile is loaded with
// consecutive threads along the operand's contiguous dimension.
// Shared-memory rows are padded so the fragment reads
// of the tensor-core variants hit 32 distinct banks.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/GemmKernel.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir::kiln::cuda;

namespace {

std::string loadExpression(const GemmOperand &operand, const std::string &name,
                           const std::string &index) {
  std::string element = name + "[" + index + "]";
  if (operand.storage == "f16")
    return "kiln::cuda::f16ToFloat(" + element + ")";
  if (operand.storage == "bf16")
    return "kiln::cuda::bf16ToFloat(" + element + ")";
  return element;
}

std::string storageType(const GemmOperand &operand) {
  if (operand.storage == "float")
    return "float";
  if (operand.storage == "s8")
    return "int8_t";
  if (operand.storage == "s32")
    return "int32_t";
  return "uint16_t";
}

class Writer {
public:
  void line(const std::string &text) {
    text_.append(indent_ * 2, ' ');
    text_ += text + "\n";
  }
  void open(const std::string &text) {
    line(text);
    ++indent_;
  }
  void close(const std::string &text = "}") {
    --indent_;
    line(text);
  }
  std::string take() { return std::move(text_); }

private:
  std::string text_;
  int indent_ = 0;
};

/// One digit of a GEMM dimension's index as one operand sees it: loops
/// the operand walks contiguously share a digit.
struct Digit {
  int64_t size, stride;
};

llvm::SmallVector<Digit> digitsOf(llvm::ArrayRef<GemmLoop> loops,
                                  int64_t GemmLoop::*stride) {
  llvm::SmallVector<Digit> digits;
  for (const GemmLoop &loop : loops) {
    if (!digits.empty() && digits.back().stride == loop.*stride * loop.size)
      digits.back() = {digits.back().size * loop.size, loop.*stride};
    else
      digits.push_back({loop.size, loop.*stride});
  }
  return digits;
}

/// The element offset, in the operand `stride` selects, of position `index`
/// of a GEMM dimension made of `loops` (outermost first): each loop's index
/// is a digit of `index` in the mixed radix of the loop sizes.
std::string offsetOf(llvm::ArrayRef<GemmLoop> loops,
                     int64_t GemmLoop::*stride, const std::string &index) {
  llvm::SmallVector<Digit> digits = digitsOf(loops, stride);
  std::string sum;
  int64_t inner = 1;
  for (size_t i = digits.size(); i-- > 0;) {
    if (digits[i].stride) {
      std::string digit = index;
      if (inner != 1)
        digit += " / " + std::to_string(inner);
      if (i != 0)
        digit += " % " + std::to_string(digits[i].size);
      if (digit != index && digits[i].stride != 1)
        digit = "(" + digit + ")";
      std::string term =
          digits[i].stride == 1
              ? digit
              : digit + " * " + std::to_string(digits[i].stride);
      sum = sum.empty() ? term : term + " + " + sum;
    }
    inner *= digits[i].size;
  }
  return sum.empty() ? "0" : sum;
}

/// The warp-level roles of the tensor-core variants, and their sums
/// (`float` or `int32_t`).
void emitWarpRoles(Writer &w, const std::string &sumType = "float") {
  w.line("const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;");
  w.line("// Warp (wm, wn) owns a 32x32 part of the tile: 2 x 4 MMA tiles "
         "of 16x8.");
  w.line("const int wm = warp / 2, wn = warp % 2, g = lane / 4, t = lane % 4;");
  w.line(sumType + " acc[2][4][4];");
  w.line("for (int mi = 0; mi < 2; ++mi)");
  w.line("  for (int ni = 0; ni < 4; ++ni)");
  w.line("    for (int i = 0; i < 4; ++i)");
  w.line("      acc[mi][ni][i] = 0;");
}

/// Whether a float operand's tile rows can be copied 16 bytes at a time
/// with cp.async: it is contiguous along `along` (the tile's row
/// direction, one run of memory whose length is a multiple of 4), and
/// every row of every batch position starts 16-byte aligned. `across` is
/// the tile's other dimension.
bool copiesAsync(llvm::ArrayRef<GemmLoop> along, llvm::ArrayRef<GemmLoop> across,
                 int64_t GemmLoop::*stride, const GemmShape &shape,
                 const GemmOperand &operand) {
  llvm::SmallVector<Digit> digits = digitsOf(along, stride);
  if (operand.storage != "float" || digits.size() != 1 ||
      digits[0].stride != 1 || digits[0].size % 4 != 0)
    return false;
  auto aligned = [](int64_t elements) { return elements % 4 == 0; };
  for (llvm::ArrayRef<GemmLoop> loops : {across, llvm::ArrayRef(shape.batch)})
    for (const GemmLoop &loop : loops)
      if (!aligned(loop.*stride))
        return false;
  int64_t shapeOffset = stride == &GemmLoop::a ? shape.aOffset : shape.bOffset;
  return operand.byteShift % 16 == 0 && aligned(operand.offset + shapeOffset);
}

/// One operand's tile copied 16 bytes (4 floats) at a time with cp.async:
/// `rows` rows of `chunks` chunks; the row is the tile's first index (`x`
/// for A, `kk` for B), the chunk's first element its second.
struct AsyncTile {
  /// The tile element a chunk starts at, without its closing bracket.
  std::string element;
  int rows, chunks;
  /// The GEMM indices along the rows and along the chunks.
  std::string rowIndex, chunkIndex;
  std::string inBounds, source;
};

void emitAsyncTileCopy(Writer &w, int threads, const AsyncTile &tile) {
  // A's rows are m and its chunks k; B's rows are k and its chunks n. The
  // tile position along m or n is x, along k it is kk.
  bool rowsAreM = tile.rowIndex == "m";
  std::string row = rowsAreM ? "x" : "kk", chunk = rowsAreM ? "kk" : "x";
  std::string rowBase = tile.rowIndex + "0", chunkBase = tile.chunkIndex + "0";
  w.open(llvm::formatv("for (int e = threadIdx.x; e < {0} * {1}; e += {2}) {{",
                       tile.rows, tile.chunks, threads)
             .str());
  w.line(llvm::formatv("const int {0} = e / {1}, {2} = 4 * (e % {1});", row,
                       tile.chunks, chunk)
             .str());
  w.line("const Index " + tile.rowIndex + " = " + rowBase + " + " + row +
         ", " + tile.chunkIndex + " = " + chunkBase + " + " + chunk + ";");
  w.line("if (" + tile.inBounds + ")");
  w.line("  kiln::cuda::cpAsync16(&" + tile.element + "], &" + tile.source +
         ");");
  w.line("else");
  w.line("  for (int i = 0; i < 4; ++i)");
  w.line("    " + tile.element + " + i] = 0.0f;");
  w.close();
}

/// One operand's tile loaded element by element through registers.
void emitTileLoads(Writer &w, int threads, const std::string &elements,
                   const std::string &walk, const std::string &store) {
  w.open(llvm::formatv("for (int e = threadIdx.x; e < {0}; e += {1}) {{",
                       elements, threads)
             .str());
  w.line(walk);
  w.line(store);
  w.close();
}

/// `q`, the 32-bit word of nibbles of k..k+7 of column n, and `group`,
/// the index of their scale and zero point.
void emitNibbleWordLoad(Writer &w, const GemmShape &shape,
                        const GemmOperand &nibbles) {
  w.line("const int8_t *word = b + n * (K / 2) + k / 2;");
  // Rows of K / 2 bytes are whole words; the matrix's start may not be.
  if ((nibbles.offset + nibbles.byteShift) % 4 == 0)
    w.line("const uint32_t q = *reinterpret_cast<const uint32_t *>(word);");
  else
    w.line("const uint32_t q = uint32_t(uint8_t(word[0])) | "
           "uint32_t(uint8_t(word[1])) << 8 | uint32_t(uint8_t(word[2])) << "
           "16 | uint32_t(uint8_t(word[3])) << 24;");
  w.line(
      llvm::formatv("const Index group = k / {0} * N + n;", shape.fourBitGroup)
          .str());
}

/// The integer form's 64 x 64 tile of signed bytes, 8 k of a column per
/// thread as QServe computes them: the four even and the four odd nibbles
/// of the word each masked into the bytes of one register, multiplied by
/// the group's integer scale all four at once (no byte exceeds 15 * 16),
/// less the scaled zero point in each byte (vsub4: subtraction after
/// multiplication, wrapping to the signed byte the weight is), then
/// interleaved back into k order (prmt).
void emitFourBitByteTileLoads(Writer &w, int threads, const GemmShape &shape,
                              const GemmOperand &nibbles) {
  w.line("// 4-bit B: 8 k of a column per thread, to signed bytes in "
         "registers.");
  w.open(llvm::formatv("for (int e = threadIdx.x; e < 64 * 8; e += {0}) {{",
                       threads)
             .str());
  w.line("const int x = e / 8, kk = 8 * (e % 8);");
  w.line("const Index n = n0 + x, k = k0 + kk;");
  w.line("uint32_t *row = reinterpret_cast<uint32_t *>(&tileB[x][kk]);");
  w.open("if (n >= N || k >= K) {");
  w.line("row[0] = row[1] = 0;");
  w.line("continue;");
  w.close();
  emitNibbleWordLoad(w, shape, nibbles);
  w.line("const uint32_t scale = uint8_t(scales[group]);");
  w.line("const uint32_t zero = uint8_t(zeros[group]) * 0x01010101u;");
  w.line("const uint32_t even = kiln::cuda::subBytes((q & 0x0f0f0f0fu) * "
         "scale, zero);");
  w.line("const uint32_t odd = kiln::cuda::subBytes(((q >> 4) & 0x0f0f0f0fu) "
         "* scale, zero);");
  w.line("row[0] = kiln::cuda::bytePerm(even, odd, 0x5140u);");
  w.line("row[1] = kiln::cuda::bytePerm(even, odd, 0x7362u);");
  w.close();
}

/// The B fragments `bf[4][2]` of a warp's 32 n x 32 k from 4-bit weights
/// in the fragment order (FourBitOrder::Fragments, QServe's): no shared
/// memory, no ldmatrix. Lane 4r + c loads its 16 bytes of the tile, four
/// words whose word 2h + a holds, in its low nibbles, the fragment of n8
/// block a and k half h, and in its high ones that of block a + 2; and the
/// four scales and scaled zero points of its columns 8a + r, consecutive
/// bytes. Each word's nibbles, masked into bytes, times the column's
/// integer scale (all four bytes at once: none exceeds 15 * 16) less the
/// scaled zero point in each byte (vsub4) are the fragment's signed bytes.
/// A warp past N, or a k half-step past K, takes zeros.
void emitFourBitFragments(Writer &w, const GemmShape &shape,
                          const GemmOperand &nibbles) {
  w.line("uint32_t bf[4][2];");
  w.line("const Index nw = n0 + wn * 32, kw = k0 + kk;");
  w.open("if (nw < N && kw < K) {");
  w.line("const Index tile = nw / 32 * (K / 32) + kw / 32;");
  w.line("const int8_t *bytes = b + tile * 512 + lane * 16;");
  w.line("uint32_t words[4];");
  // Tiles are 512 bytes from the buffer's start: whole words when it is.
  if ((nibbles.offset + nibbles.byteShift) % 4 == 0)
    w.line("for (int i = 0; i < 4; ++i) words[i] = "
           "reinterpret_cast<const uint32_t *>(bytes)[i];");
  else
    w.line("for (int i = 0; i < 4; ++i) words[i] = uint32_t(uint8_t(bytes[4 * "
           "i])) | "
           "uint32_t(uint8_t(bytes[4 * i + 1])) << 8 | "
           "uint32_t(uint8_t(bytes[4 * i + 2])) << 16 | "
           "uint32_t(uint8_t(bytes[4 * i + 3])) << 24;");
  w.line(llvm::formatv("const Index columns = (kw / {0} * (N / 32) + nw / "
                       "32) * 32 + 4 * g;",
                       shape.fourBitGroup)
             .str());
  w.open("for (int a = 0; a < 4; ++a) {");
  w.line("const uint32_t scale = uint8_t(scales[columns + a]);");
  w.line("const uint32_t zero = uint8_t(zeros[columns + a]) * 0x01010101u;");
  w.open("for (int h = 0; h < 2; ++h) {");
  w.line("const uint32_t word = words[2 * h + (a & 1)];");
  w.line("const uint32_t q = a < 2 ? word & 0x0f0f0f0fu : (word >> 4) & "
         "0x0f0f0f0fu;");
  w.line("bf[a][h] = kiln::cuda::subBytes(q * scale, zero);");
  w.close();
  w.close();
  w.close();
  w.open("else {");
  w.line("for (int ni = 0; ni < 4; ++ni)");
  w.line("  bf[ni][0] = bf[ni][1] = 0;");
  w.close();
}

/// A 4-bit B's 32 x 64 tile: each thread takes 8 k of a column, one 32-bit
/// word of nibbles (K and the group size are multiples of 8, so the 8 are
/// all in or all out, and share a scale and zero point), and writes their
/// `(q - z) * s` as FP16.
void emitFourBitTileLoads(Writer &w, int threads, const GemmShape &shape,
                          const GemmOperand &nibbles,
                          const GemmGroups &groups) {
  w.line("// 4-bit B: 8 k of a column per thread, dequantized in registers.");
  w.open(llvm::formatv("for (int e = threadIdx.x; e < 64 * 4; e += {0}) {{",
                       threads)
             .str());
  w.line("const int x = e / 4, kk = 8 * (e % 4);");
  w.line("const Index n = n0 + x, k = k0 + kk;");
  w.open("if (n >= N || k >= K) {");
  w.line("for (int i = 0; i < 8; ++i)");
  w.line("  tileB[x][kk + i] = 0;");
  w.line("continue;");
  w.close();
  emitNibbleWordLoad(w, shape, nibbles);
  w.line("const float scale = " +
         loadExpression(groups.scales, "scales", "group") + ";");
  w.line("const int zero = zeros[group];");
  w.line("for (int i = 0; i < 8; ++i)");
  w.line("  tileB[x][kk + i] = kiln::cuda::floatToF16(float(int((q >> (4 * "
         "i)) & 15u) - zero) * scale);");
  w.close();
}

/// Whether M, N, K and every element offset within a batch position fit
/// in 31 bits.
bool fitsInt32(const GemmShape &shape) {
  constexpr int64_t limit = int64_t(1) << 31;
  auto extent = [](llvm::ArrayRef<GemmLoop> loops, int64_t GemmLoop::*stride) {
    int64_t last = 0;
    for (const GemmLoop &loop : loops)
      last += (loop.size - 1) * loop.*stride;
    return last;
  };
  if (shape.mSize() + 64 >= limit || shape.nSize() + 64 >= limit ||
      shape.kSize() + 32 >= limit)
    return false;
  for (int64_t GemmLoop::*stride : {&GemmLoop::a, &GemmLoop::b, &GemmLoop::c})
    if (extent(shape.m, stride) + extent(shape.n, stride) +
            extent(shape.k, stride) >=
        limit)
      return false;
  return true;
}

} // namespace

GemmKernelSource mlir::kiln::cuda::gemmKernel(
    const std::string &signature, const GemmShape &shape, const GemmOperand &a,
    const GemmOperand &b, const GemmOperand &c, GemmPrecision precision,
    const GemmGroups *groups) {
  // 4-bit weights take FP16 tiles, or signed bytes in the integer form.
  if (shape.fourBitGroup && precision != GemmPrecision::Int8)
    precision = GemmPrecision::Fp16;
  GemmKernelSource result;
  bool tensorCores = precision != GemmPrecision::Fp32;
  bool sixteenBit =
      precision == GemmPrecision::Fp16 || precision == GemmPrecision::Bf16;
  bool bytes = precision == GemmPrecision::Int8;
  int threads = tensorCores ? 128 : 256;
  int depth = bytes ? 64 : sixteenBit ? 32 : 16;
  result.blockThreads = threads;
  result.grid[0] = uint32_t((shape.nSize() + 63) / 64);
  result.grid[1] = uint32_t((shape.mSize() + 63) / 64);
  result.grid[2] = uint32_t(shape.batchSize());

  Writer w;
  w.open(signature + " {");
  const char *kind = precision == GemmPrecision::Fp32 ? "FP32 on the CUDA cores"
                     : precision == GemmPrecision::Tf32 ? "TF32 tensor cores"
                     : precision == GemmPrecision::Fp16 ? "FP16 tensor cores"
                     : precision == GemmPrecision::Bf16
                         ? "BF16 tensor cores"
                         : "INT8 tensor cores, s32 sums";
  if (shape.fourBitGroup)
    kind = shape.fourBitFragments
               ? "4-bit B in fragment order to signed bytes in registers, "
                 "INT8 tensor cores, s32 sums"
           : bytes ? "4-bit B to signed bytes, INT8 tensor cores, s32 sums"
                   : "4-bit B dequantized to FP16, FP16 tensor cores";
  w.line(llvm::formatv("// GEMM C += A * B: M={0}, N={1}, K={2}, batch {3}; "
                       "64x64 tiles, {4}.",
                       shape.mSize(), shape.nSize(), shape.kSize(),
                       shape.batchSize(), kind));
  // 32-bit index arithmetic (cheaper divisions, fewer registers) when
  // every element of every operand is within reach of it.
  w.line(std::string("using Index = ") +
         (fitsInt32(shape) ? "uint32_t" : "int64_t") + ";");
  w.line(llvm::formatv("const Index M = {0}, N = {1}, K = {2};",
                       shape.mSize(), shape.nSize(), shape.kSize()));
  w.line("const Index m0 = Index(blockIdx.y) * 64;");
  w.line("const Index n0 = Index(blockIdx.x) * 64;");

  // The batch position and each operand's offset there.
  std::string aBase = std::to_string(a.offset + shape.aOffset),
              bBase = std::to_string(b.offset + shape.bOffset),
              cBase = std::to_string(c.offset + shape.cOffset);
  int64_t after = 1;
  for (size_t i = shape.batch.size(); i-- > 0;) {
    const GemmLoop &loop = shape.batch[i];
    std::string iv = "batch" + std::to_string(i);
    w.line("const int64_t " + iv + " = (int64_t(blockIdx.z) / " +
           std::to_string(after) + ") % " + std::to_string(loop.size) + ";");
    after *= loop.size;
    for (auto [base, stride] : {std::pair{&aBase, loop.a},
                                std::pair{&bBase, loop.b},
                                std::pair{&cBase, loop.c}})
      if (stride)
        *base += " + " + iv + " * " + std::to_string(stride);
  }
  auto declare = [&](const GemmOperand &operand, const char *name,
                     const std::string &base, bool writable) {
    w.line((writable ? "" : "const ") + storageType(operand) + " *" + name +
           " = reinterpret_cast<" + (writable ? "" : "const ") +
           storageType(operand) + " *>(" + operand.pointer + ") + " + base +
           ";");
  };
  declare(a, "a", aBase, false);
  declare(b, "b", bBase, false);
  declare(c, "c", cBase, true);
  if (shape.fourBitGroup) {
    declare(groups->scales, "scales", std::to_string(groups->scales.offset),
            false);
    declare(groups->zeros, "zeros", std::to_string(groups->zeros.offset),
            false);
  }
  std::string aIndex = offsetOf(shape.m, &GemmLoop::a, "m") + " + " +
                       offsetOf(shape.k, &GemmLoop::a, "k");
  std::string bIndex = offsetOf(shape.k, &GemmLoop::b, "k") + " + " +
                       offsetOf(shape.n, &GemmLoop::b, "n");
  std::string cIndex = offsetOf(shape.m, &GemmLoop::c, "m") + " + " +
                       offsetOf(shape.n, &GemmLoop::c, "n");
  w.line("// Elements outside the matrices read as zero.");
  std::string zero = bytes ? "int8_t(0)" : "0.0f";
  w.line("auto loadA = [&](Index m, Index k) { return m < M && k < K ? " +
         loadExpression(a, "a", aIndex) + " : " + zero + "; };");
  // A 4-bit B is no [K, N] matrix: its tile loads unpack the nibbles.
  if (!shape.fourBitGroup)
    w.line("auto loadB = [&](Index k, Index n) { return k < K && n < N ? " +
           loadExpression(b, "b", bIndex) + " : " + zero + "; };");

  // Tile loads: A's tile is 64 (m) x depth (k), B's depth (k) x 64 (n).
  bool aAlongK = shape.k.back().a == 1;
  bool bAlongN = shape.n.back().b == 1 || shape.k.back().b != 1;
  std::string d = std::to_string(depth);
  std::string aWalk = aAlongK ? "const int x = e / " + d + ", kk = e % " + d + ";"
                              : "const int kk = e / 64, x = e % 64;";
  std::string bWalk = bAlongN ? "const int kk = e / 64, x = e % 64;"
                              : "const int x = e / " + d + ", kk = e % " + d + ";";

  if (bytes) {
    // Signed bytes, 64 k per tile, copied as they are. Byte for byte the
    // fragments of m16n8k32 s8 are those of m16n8k16 f16 (each half two
    // consecutive k), so the 16-bit variant's ldmatrix loads serve, at
    // twice the k per row; the 80-byte rows keep them conflict-free.
    emitWarpRoles(w, "int32_t");
    w.line("__shared__ __align__(16) int8_t tileA[64][80]; // [m][k]");
    if (!shape.fourBitFragments)
      w.line("__shared__ __align__(16) int8_t tileB[64][80]; // [n][k]");
    w.open("for (Index k0 = 0; k0 < K; k0 += 64) {");
    emitTileLoads(w, threads, "64 * 64", aWalk,
                  "tileA[x][kk] = loadA(m0 + x, k0 + kk);");
    // B in the fragment order goes straight to registers, below.
    if (shape.fourBitGroup && !shape.fourBitFragments)
      emitFourBitByteTileLoads(w, threads, shape, b);
    else if (!shape.fourBitGroup)
      emitTileLoads(w, threads, "64 * 64", bWalk,
                    "tileB[x][kk] = loadB(k0 + kk, n0 + x);");
    w.line("__syncthreads();");
    w.open("for (int kk = 0; kk < 64; kk += 32) {");
    w.line("uint32_t af[2][4];");
    w.line("for (int mi = 0; mi < 2; ++mi)");
    w.line("  kiln::cuda::ldmatrixX4(af[mi], &tileA[wm * 32 + mi * 16 + "
           "(lane & 15)][kk + 16 * (lane >> 4)]);");
    if (shape.fourBitFragments) {
      emitFourBitFragments(w, shape, b);
    } else {
      w.line("uint32_t bf[4][2];");
      w.open("for (int ni = 0; ni < 4; ni += 2) {");
      w.line("uint32_t r[4];");
      w.line("kiln::cuda::ldmatrixX4(r, &tileB[wn * 32 + ni * 8 + (lane & 7) "
             "+ 8 * (lane >> 4)][kk + 16 * ((lane >> 3) & 1)]);");
      w.line("bf[ni][0] = r[0], bf[ni][1] = r[1], bf[ni + 1][0] = r[2], "
             "bf[ni + 1][1] = r[3];");
      w.close();
    }
    w.line("for (int mi = 0; mi < 2; ++mi)");
    w.line("  for (int ni = 0; ni < 4; ++ni)");
    w.line("    kiln::cuda::mmaS8(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);");
    w.close();
    w.line("__syncthreads();");
    w.close();
  } else if (!sixteenBit) {
    // Two stages of float tiles: the next K step is staged while this one
    // is multiplied. An operand whose tile rows are 16-byte runs of memory
    // is copied with cp.async; the other goes through registers.
    bool asyncA = copiesAsync(shape.k, shape.m, &GemmLoop::a, shape, a);
    bool asyncB = copiesAsync(shape.n, shape.k, &GemmLoop::b, shape, b);
    w.line("__shared__ __align__(16) float tileA[2][64][20]; // [stage][m][k]");
    w.line("__shared__ __align__(16) float tileB[2][16][72]; // [stage][k][n]");
    w.open("auto stage = [&](int s, Index k0) {");
    if (asyncA)
      emitAsyncTileCopy(w, threads, {"tileA[s][x][kk", 64, 4, "m", "k",
                                     "m < M && k < K", "a[" + aIndex + "]"});
    else
      emitTileLoads(w, threads, "64 * 16", aWalk,
                    "tileA[s][x][kk] = loadA(m0 + x, k0 + kk);");
    if (asyncB)
      emitAsyncTileCopy(w, threads, {"tileB[s][kk][x", 16, 16, "k", "n",
                                     "k < K && n < N", "b[" + bIndex + "]"});
    else
      emitTileLoads(w, threads, "16 * 64", bWalk,
                    "tileB[s][kk][x] = loadB(k0 + kk, n0 + x);");
    w.line("kiln::cuda::cpAsyncCommit();");
    w.close("};");
    if (!tensorCores) {
      w.line("const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;");
      w.line("// Thread (ty, tx) owns rows ty + 16i and columns tx + 16j.");
      w.line("float acc[4][4];");
      w.line("for (int i = 0; i < 4; ++i)");
      w.line("  for (int j = 0; j < 4; ++j)");
      w.line("    acc[i][j] = 0.0f;");
    } else {
      emitWarpRoles(w);
    }
    w.line("stage(0, 0);");
    w.line("int s = 0;");
    w.open("for (Index k0 = 0; k0 < K; k0 += 16, s ^= 1) {");
    w.line("if (k0 + 16 < K)");
    w.line("  stage(s ^ 1, k0 + 16);");
    w.line("else");
    w.line("  kiln::cuda::cpAsyncCommit();");
    w.line("// This stage's copies landed (only the next one's may be in "
           "flight), and every thread's are visible after the barrier.");
    w.line("kiln::cuda::cpAsyncWait<1>();");
    w.line("__syncthreads();");
    if (!tensorCores) {
      w.open("for (int kk = 0; kk < 16; ++kk) {");
      w.line("float av[4], bv[4];");
      w.open("for (int i = 0; i < 4; ++i) {");
      w.line("av[i] = tileA[s][ty + 16 * i][kk];");
      w.line("bv[i] = tileB[s][kk][tx + 16 * i];");
      w.close();
      w.line("for (int i = 0; i < 4; ++i)");
      w.line("  for (int j = 0; j < 4; ++j)");
      w.line("    acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);");
      w.close();
    } else {
      w.open("for (int kk = 0; kk < 16; kk += 8) {");
      w.line("// Fragments as the PTX ISA lays out mma.m16n8k8 operands.");
      w.line("uint32_t af[2][4], bf[4][2];");
      w.line("for (int mi = 0; mi < 2; ++mi)");
      w.line("  for (int i = 0; i < 4; ++i)");
      w.line("    af[mi][i] = kiln::cuda::toTf32(tileA[s][wm * 32 + mi * 16 + "
             "g + 8 * (i & 1)][kk + t + 4 * (i >> 1)]);");
      w.line("for (int ni = 0; ni < 4; ++ni)");
      w.line("  for (int i = 0; i < 2; ++i)");
      w.line("    bf[ni][i] = kiln::cuda::toTf32(tileB[s][kk + t + 4 * i][wn "
             "* 32 + ni * 8 + g]);");
      w.line("for (int mi = 0; mi < 2; ++mi)");
      w.line("  for (int ni = 0; ni < 4; ++ni)");
      w.line("    kiln::cuda::mmaTf32(acc[mi][ni], af[mi], bf[ni], "
             "acc[mi][ni]);");
      w.close();
    }
    w.line("// Every thread is done with this stage before it is refilled.");
    w.line("__syncthreads();");
    w.close();
  } else {
    // 16-bit tiles: elements are converted on the way in, so they go
    // through registers, one stage.
    std::string convert = precision == GemmPrecision::Bf16
                              ? "kiln::cuda::floatToBf16"
                              : "kiln::cuda::floatToF16";
    emitWarpRoles(w);
    w.line("__shared__ __align__(16) uint16_t tileA[64][40]; // [m][k]");
    w.line("__shared__ __align__(16) uint16_t tileB[64][40]; // [n][k]");
    w.open("for (Index k0 = 0; k0 < K; k0 += 32) {");
    emitTileLoads(w, threads, "64 * 32", aWalk,
                  "tileA[x][kk] = " + convert + "(loadA(m0 + x, k0 + kk));");
    if (shape.fourBitGroup)
      emitFourBitTileLoads(w, threads, shape, b, *groups);
    else
      emitTileLoads(w, threads, "64 * 32", bWalk,
                    "tileB[x][kk] = " + convert + "(loadB(k0 + kk, n0 + x));");
    w.line("__syncthreads();");
    w.open("for (int kk = 0; kk < 32; kk += 16) {");
    w.line("// Fragments as the PTX ISA lays out mma.m16n8k16 operands, "
           "four 8x8 matrices per ldmatrix: A's 16x16 as rows 0-7 and 8-15 "
           "of k 0-7, then of k 8-15; two B tiles' 8x16 as k 0-7 and 8-15 "
           "of each.");
    w.line("uint32_t af[2][4], bf[4][2];");
    w.line("for (int mi = 0; mi < 2; ++mi)");
    w.line("  kiln::cuda::ldmatrixX4(af[mi], &tileA[wm * 32 + mi * 16 + "
           "(lane & 15)][kk + 8 * (lane >> 4)]);");
    w.open("for (int ni = 0; ni < 4; ni += 2) {");
    w.line("uint32_t r[4];");
    w.line("kiln::cuda::ldmatrixX4(r, &tileB[wn * 32 + ni * 8 + (lane & 7) "
           "+ 8 * (lane >> 4)][kk + 8 * ((lane >> 3) & 1)]);");
    w.line("bf[ni][0] = r[0], bf[ni][1] = r[1], bf[ni + 1][0] = r[2], "
           "bf[ni + 1][1] = r[3];");
    w.close();
    w.line("for (int mi = 0; mi < 2; ++mi)");
    w.line("  for (int ni = 0; ni < 4; ++ni)");
    w.line(std::string("    kiln::cuda::") +
           (precision == GemmPrecision::Bf16 ? "mmaBf16" : "mmaF16") +
           "(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);");
    w.close();
    w.line("__syncthreads();");
    w.close();
  }
  if (!tensorCores) {
    w.open("for (int i = 0; i < 4; ++i) {");
    w.open("for (int j = 0; j < 4; ++j) {");
    w.line("const Index m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;");
    w.line("if (m < M && n < N)");
  } else {
    w.open("for (int mi = 0; mi < 2; ++mi) {");
    w.open("for (int ni = 0; ni < 4; ++ni) {");
    w.open("for (int i = 0; i < 4; ++i) {");
    w.line("const Index m = m0 + wm * 32 + mi * 16 + g + 8 * (i >> 1);");
    w.line("const Index n = n0 + wn * 32 + ni * 8 + 2 * t + (i & 1);");
    w.line("if (m < M && n < N)");
  }
  std::string sum = tensorCores ? "acc[mi][ni][i]" : "acc[i][j]";
  std::string element = "c[" + cIndex + "]";
  if (c.storage == "f16")
    w.line("  " + element + " = kiln::cuda::floatToF16(kiln::cuda::f16ToFloat(" +
           element + ") + " + sum + ");");
  else if (c.storage == "bf16")
    w.line("  " + element +
           " = kiln::cuda::floatToBf16(kiln::cuda::bf16ToFloat(" + element +
           ") + " + sum + ");");
  else
    w.line("  " + element + " += " + sum + ";");
  w.close();
  w.close();
  if (tensorCores)
    w.close();
  w.close();
  result.text = w.take();
  return result;
}
