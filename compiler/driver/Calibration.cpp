//===- Calibration.cpp - running the model to gather statistics -----------===//

#include "compiler/driver/Calibration.h"

#include "compiler/llm/BpeTokenizer.h"
#include "dialects/kiln/KilnAttributes.h"
#include "passes/quant/Gptq.h"
#include "passes/quant/KeyCaches.h"
#include "passes/quant/WeightProducts.h"

#include "kiln/runtime.hpp"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::kiln;

bool mlir::kiln::readCalibrationSamples(const std::string &dir, int64_t limit,
                                        std::vector<CalibrationSample> &samples,
                                        std::string &error) {
  std::vector<std::string> files;
  std::error_code code;
  for (llvm::sys::fs::directory_iterator it(dir, code), end; it != end && !code;
       it.increment(code))
    if (llvm::sys::path::extension(it->path()) == ".npz")
      files.push_back(it->path());
  if (code) {
    error = dir + ": cannot list the calibration samples: " + code.message();
    return false;
  }
  std::sort(files.begin(), files.end());
  if (limit > 0 && int64_t(files.size()) > limit)
    files.resize(limit);
  samples.clear();
  for (const std::string &file : files) {
    CalibrationSample sample;
    sample.origin = file;
    if (!readNpz(file, sample.inputs, error))
      return false;
    samples.push_back(std::move(sample));
  }
  return true;
}

namespace {

/// `values` as an array of the integer `dtype` (int64 or int32).
bool integerArray(kiln_dtype_t dtype, const std::vector<int64_t> &shape,
                  const std::vector<int64_t> &values, NpyArray &array) {
  array.shape = shape;
  array.dtype = dtype;
  if (dtype == KILN_DTYPE_INT64) {
    array.data.resize(values.size() * 8);
    std::memcpy(array.data.data(), values.data(), array.data.size());
    return true;
  }
  if (dtype != KILN_DTYPE_INT32)
    return false;
  array.data.resize(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    int32_t value = int32_t(values[i]);
    std::memcpy(array.data.data() + 4 * i, &value, 4);
  }
  return true;
}

kiln_dtype_t integerDtype(Type element) {
  if (element.isInteger(64))
    return KILN_DTYPE_INT64;
  if (element.isInteger(32))
    return KILN_DTYPE_INT32;
  return KILN_DTYPE_FLOAT32; // not an integer type the text fills
}

} // namespace

bool mlir::kiln::calibrationSamplesFromText(
    ModuleOp module, const std::string &textPath, const std::string &ggufPath,
    int64_t window, int64_t limit, std::vector<CalibrationSample> &samples,
    std::string &error) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main) {
    error = "the model has no main function";
    return false;
  }
  auto buffer = llvm::MemoryBuffer::getFile(textPath);
  if (!buffer) {
    error = textPath + ": cannot read the calibration text";
    return false;
  }
  std::unique_ptr<::kiln::llm::BpeTokenizer> tokenizer =
      ::kiln::llm::BpeTokenizer::fromGgufFile(ggufPath, error);
  if (!tokenizer)
    return false;
  std::vector<int64_t> tokens = tokenizer->encode((*buffer)->getBuffer().str());
  int64_t windows = int64_t(tokens.size()) / window;
  if (limit > 0)
    windows = std::min(windows, limit);
  if (windows == 0) {
    error = textPath + ": " + std::to_string(tokens.size()) +
            " tokens make no calibration window of " + std::to_string(window);
    return false;
  }

  samples.clear();
  for (int64_t w = 0; w < windows; ++w) {
    CalibrationSample sample;
    sample.origin = textPath + " window " + std::to_string(w + 1);
    std::vector<int64_t> ids(tokens.begin() + w * window,
                             tokens.begin() + (w + 1) * window);
    std::vector<int64_t> positions(window), ones(window, 1);
    for (int64_t i = 0; i < window; ++i)
      positions[i] = i;
    for (unsigned i = 0; i < main.getNumArguments(); ++i) {
      auto nameAttr = main.getArgAttrOfType<StringAttr>(i, "onnx.name");
      std::string name = nameAttr ? nameAttr.str() : "";
      auto type = dyn_cast<RankedTensorType>(main.getArgument(i).getType());
      NpyArray array;
      kiln_dtype_t dtype =
          type ? integerDtype(type.getElementType()) : KILN_DTYPE_FLOAT32;
      bool made = false;
      if (type && type.getRank() == 2 &&
          (name == "input_ids" || name == "attention_mask" ||
           name == "position_ids"))
        made = integerArray(dtype, {1, window},
                            name == "input_ids"      ? ids
                            : name == "position_ids" ? positions
                                                     : ones,
                            array);
      else if (type && type.getRank() == 4 && type.getElementType().isF32() &&
               llvm::StringRef(name).starts_with("past_key_values")) {
        // Empty caches: batch 1, no past tokens.
        array.dtype = KILN_DTYPE_FLOAT32;
        array.shape = {1, type.isDynamicDim(1) ? 1 : type.getDimSize(1), 0,
                       type.isDynamicDim(3) ? 1 : type.getDimSize(3)};
        made = true;
      }
      if (!made) {
        error = "cannot make the input '" + name +
                "' from a text: a decoder's inputs are input_ids, "
                "attention_mask, position_ids (integers [batch, sequence]) "
                "and past_key_values.* (f32 [batch, heads, past, head]); "
                "give samples with --calibration DIR instead";
        return false;
      }
      sample.inputs.emplace_back(name, std::move(array));
    }
    samples.push_back(std::move(sample));
  }
  return true;
}

namespace {

/// The running statistics of one tapped operand.
struct TapStats {
  int64_t k = 0, rows = 0;
  std::vector<float> absMax;
  /// Over the rows after each sequence's first, for a product's rows
  /// [..., sequence, k]; empty for other taps.
  std::vector<float> absMaxAfterFirst;
  std::vector<double> absSum, sum;
  std::vector<float> samples; // rows of k
  std::vector<double> gram;   // [k, k], when asked for
};

/// The rows a decoder appends to a cache: `present = Concat(past, rows)`
/// over the sequence (axis 2 of [batch, heads, sequence, head]) returned
/// as output `output`, and the product that projects them.
struct CacheWrite {
  unsigned output;
  Operation *projection;
};

/// The cache writes of `main` whose rows come from one of `products`.
SmallVector<CacheWrite> cacheWrites(func::FuncOp main,
                                    ArrayRef<Operation *> products) {
  SmallVector<CacheWrite> writes;
  auto ret = cast<func::ReturnOp>(main.getBody().back().getTerminator());
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    auto concat = value.getDefiningOp<onnx::ConcatOp>();
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!concat || !type || type.getRank() != 4 ||
        concat->getNumOperands() != 2 ||
        (int64_t(concat.getAxis()) != 2 && int64_t(concat.getAxis()) != -2) ||
        !isa<BlockArgument>(concat->getOperand(0)))
      continue;
    Operation *projection = quant::projectionBehind(concat->getOperand(1));
    if (projection && llvm::is_contained(products, projection))
      writes.push_back({unsigned(i), projection});
  }
  return writes;
}

/// The weight products and convolutions of `main` in walk order.
SmallVector<Operation *> weightProducts(func::FuncOp main) {
  SmallVector<Operation *> products;
  main.walk([&](Operation *op) {
    if (quant::isQuantizable(op))
      products.push_back(op);
  });
  return products;
}

} // namespace

LogicalResult
mlir::kiln::calibrate(ModuleOp module,
                      const std::vector<CalibrationSample> &samples,
                      const CompileForCalibration &compile, int64_t sampleRows,
                      bool gram, int32_t threads, std::string &error) {
  if (samples.empty()) {
    error = "the calibration set is empty";
    return failure();
  }
  auto main = module.lookupSymbol<func::FuncOp>("main");
  SmallVector<Operation *> products = weightProducts(main);
  if (products.empty())
    return success(); // Nothing to calibrate: the passes warn.

  // The distinct left operands (q, k and v share one), in order.
  SmallVector<Value> taps;
  SmallVector<unsigned> tapOf;
  // Each tap's channel axis: the last of a product's rows, 1 of an image.
  SmallVector<int64_t> channelAxes;
  for (Operation *op : products) {
    Value activation = quant::activationOf(op);
    auto *it = llvm::find(taps, activation);
    tapOf.push_back(unsigned(it - taps.begin()));
    if (it == taps.end()) {
      taps.push_back(activation);
      channelAxes.push_back(
          isa<onnx::ConvOp>(op)
              ? 1
              : cast<RankedTensorType>(activation.getType()).getRank() - 1);
    }
  }

  // The rows each cache receives, whose mean (after RoPE, for keys) the
  // key centering subtracts: the model computes them as its present
  // outputs already.
  SmallVector<CacheWrite> writes = cacheWrites(main, products);

  // The model with the taps as extra outputs.
  OwningOpRef<ModuleOp> tapped = module.clone();
  auto tappedMain = tapped->lookupSymbol<func::FuncOp>("main");
  SmallVector<Operation *> tappedProducts = weightProducts(tappedMain);
  auto ret = cast<func::ReturnOp>(tappedMain.getBody().back().getTerminator());
  unsigned modelOutputs = ret.getNumOperands();
  SmallVector<Value> tapValues(taps.size());
  for (auto [i, op] : llvm::enumerate(tappedProducts))
    tapValues[tapOf[i]] = quant::activationOf(op);
  for (auto [t, value] : llvm::enumerate(tapValues)) {
    Builder b(value.getContext());
    tappedMain.insertResult(
        modelOutputs + t, value.getType(),
        b.getDictionaryAttr(b.getNamedAttr(
            "onnx.name",
            b.getStringAttr("kiln_calibration_" + std::to_string(t)))));
    ret->insertOperands(ret.getNumOperands(), value);
  }

  llvm::SmallString<128> path;
  if (std::error_code code = llvm::sys::fs::createTemporaryFile(
          "kiln-calibration", "kiln", path)) {
    error = "cannot create the calibration package: " + code.message();
    return failure();
  }
  llvm::FileRemover remover(path);
  if (failed(compile(*tapped, path.str().str()))) {
    error = "the floating-point model for calibration did not compile";
    return failure();
  }

  // Per cache write, the sum of its rows per head and channel.
  std::vector<std::vector<double>> writeSums(writes.size());
  std::vector<int64_t> writeRows(writes.size(), 0);
  std::vector<TapStats> stats(taps.size());
  int64_t rowsPerSample =
      (sampleRows + int64_t(samples.size()) - 1) / int64_t(samples.size());
  bool progress = llvm::errs().is_displayed();
  try {
    ::kiln::Model model = ::kiln::Model::load(path.str().str());
    ::kiln::Session session(model, threads);
    for (auto [index, sample] : llvm::enumerate(samples)) {
      if (progress)
        llvm::errs() << "\rkiln: calibrating: sample " << index + 1 << " of "
                     << samples.size();
      std::vector<kiln_tensor_t> inputs;
      for (size_t i = 0; i < model.inputCount(); ++i) {
        kiln_tensor_info_t info = model.input(i);
        auto it = llvm::find_if(sample.inputs, [&](const auto &entry) {
          return entry.first == info.name;
        });
        if (it == sample.inputs.end()) {
          error = sample.origin + ": no input '" + info.name +
                  "', which the model takes";
          return failure();
        }
        if (it->second.dtype != info.dtype) {
          error = sample.origin + ": input '" + info.name + "' is " +
                  std::string(kiln_dtype_name(it->second.dtype)) +
                  ", the model takes " + kiln_dtype_name(info.dtype);
          return failure();
        }
        inputs.push_back({info.name, it->second.dtype,
                          int32_t(it->second.shape.size()),
                          it->second.shape.data(),
                          const_cast<uint8_t *>(it->second.data.data()),
                          it->second.data.size()});
      }
      for (const auto &[name, array] : sample.inputs)
        if (llvm::none_of(inputs, [&](const kiln_tensor_t &input) {
              return name == input.name;
            })) {
          error =
              sample.origin + ": '" + name + "' is not an input of the model";
          return failure();
        }
      std::vector<kiln_tensor_t> outputs(model.outputCount(), kiln_tensor_t{});
      try {
        session.run(inputs, outputs);
      } catch (const ::kiln::Error &failed) {
        error = sample.origin + ": " + failed.what();
        return failure();
      }
      for (auto [w, write] : llvm::enumerate(writes)) {
        // [batch, heads, past + sequence, head]: the past of a sample
        // from a text is empty; a sample's own past rows are rows as the
        // cache holds them too.
        const kiln_tensor_t &out = outputs[write.output];
        if (out.rank != 4)
          continue;
        int64_t heads = out.shape[1], sequence = out.shape[2],
                head = out.shape[3];
        std::vector<double> &sum = writeSums[w];
        sum.resize(heads * head, 0.0);
        const float *data = static_cast<const float *>(out.data);
        for (int64_t b = 0; b < out.shape[0]; ++b)
          for (int64_t h = 0; h < heads; ++h)
            for (int64_t t = 0; t < sequence; ++t)
              for (int64_t d = 0; d < head; ++d)
                sum[h * head + d] +=
                    data[((b * heads + h) * sequence + t) * head + d];
        writeRows[w] += out.shape[0] * sequence;
      }
      for (auto [t, tap] : llvm::enumerate(stats)) {
        const kiln_tensor_t &out = outputs[modelOutputs + t];
        // The tensor as [outer, k, inner] around its channel axis: a
        // row (one token, one pixel) is an (outer, inner) pair.
        int64_t axis = std::min<int64_t>(channelAxes[t], out.rank - 1);
        int64_t k = out.rank ? out.shape[axis] : 1, inner = 1;
        for (int32_t d = int32_t(axis) + 1; d < out.rank; ++d)
          inner *= out.shape[d];
        int64_t rows = k ? int64_t(out.byte_size / 4) / k : 0;
        const float *data = static_cast<const float *>(out.data);
        auto at = [&](int64_t row, int64_t c) {
          return data[(row / inner * k + c) * inner + row % inner];
        };
        // A product's rows [..., sequence, k]: a decoder's first position
        // (the attention sink) can exceed every other row by far, which
        // the static range of SmoothQuant leaves to a scale of its own.
        int64_t sequence = inner == 1 && out.rank >= 3 && axis == out.rank - 1
                               ? out.shape[out.rank - 2]
                               : 0;
        if (tap.k == 0) {
          tap.k = k;
          tap.absMax.assign(k, 0.0f);
          if (sequence)
            tap.absMaxAfterFirst.assign(k, 0.0f);
          tap.absSum.assign(k, 0.0);
          tap.sum.assign(k, 0.0);
          // Only products' rows: a convolution's pixels are not what a
          // rounding of its filter would need.
          if (gram && inner == 1)
            tap.gram.assign(k * k, 0.0);
        }
        for (int64_t r = 0; r < rows; ++r) {
          bool afterFirst =
              sequence && r % sequence != 0 && !tap.absMaxAfterFirst.empty();
          for (int64_t c = 0; c < k; ++c) {
            float value = at(r, c);
            tap.absMax[c] = std::max(tap.absMax[c], std::fabs(value));
            if (afterFirst)
              tap.absMaxAfterFirst[c] =
                  std::max(tap.absMaxAfterFirst[c], std::fabs(value));
            tap.absSum[c] += std::fabs(value);
            tap.sum[c] += value;
          }
        }
        tap.rows += rows;
        if (!tap.gram.empty()) {
          std::vector<float> all(rows * k);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < k; ++c)
              all[r * k + c] = at(r, c);
          quant::addGram(all, rows, k, tap.gram);
        }
        // Rows spread evenly over the sample, its first included: a
        // decoder's first position (the attention sink) has outlier
        // activations that the clipping search must see.
        int64_t kept = std::min(rows, rowsPerSample);
        for (int64_t i = 0; i < kept; ++i) {
          int64_t r = i * rows / kept;
          for (int64_t c = 0; c < k; ++c)
            tap.samples.push_back(at(r, c));
        }
      }
    }
  } catch (const ::kiln::Error &failed) {
    error = std::string("calibration: ") + failed.what();
    return failure();
  }
  if (progress)
    llvm::errs() << "\n";

  Builder b(module.getContext());
  SmallVector<DictionaryAttr> attrs;
  for (TapStats &tap : stats) {
    std::vector<float> absMean(tap.k), mean(tap.k);
    for (int64_t c = 0; c < tap.k; ++c) {
      absMean[c] = tap.rows ? float(tap.absSum[c] / double(tap.rows)) : 0.0f;
      mean[c] = tap.rows ? float(tap.sum[c] / double(tap.rows)) : 0.0f;
    }
    auto vector = RankedTensorType::get({tap.k}, b.getF32Type());
    auto rows = RankedTensorType::get(
        {int64_t(tap.samples.size()) / std::max<int64_t>(tap.k, 1), tap.k},
        b.getF32Type());
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("abs_max",
                       DenseElementsAttr::get(vector, ArrayRef(tap.absMax))),
        b.getNamedAttr("abs_mean",
                       DenseElementsAttr::get(vector, ArrayRef(absMean))),
        b.getNamedAttr("mean", DenseElementsAttr::get(vector, ArrayRef(mean))),
        b.getNamedAttr("samples",
                       DenseElementsAttr::get(rows, ArrayRef(tap.samples)))};
    if (!tap.absMaxAfterFirst.empty())
      fields.push_back(b.getNamedAttr(
          "abs_max_after_first",
          DenseElementsAttr::get(vector, ArrayRef(tap.absMaxAfterFirst))));
    if (!tap.gram.empty()) {
      std::vector<float> gramValues(tap.gram.begin(), tap.gram.end());
      fields.push_back(b.getNamedAttr(
          "gram", DenseElementsAttr::get(
                      RankedTensorType::get({tap.k, tap.k}, b.getF32Type()),
                      ArrayRef(gramValues))));
    }
    attrs.push_back(b.getDictionaryAttr(fields));
  }
  for (auto [i, op] : llvm::enumerate(products))
    op->setAttr(kActivationStatsAttrName, attrs[tapOf[i]]);
  // A projection into a cache keeps the mean of the rows as the cache
  // receives them ([heads x head], head-major).
  for (auto [w, write] : llvm::enumerate(writes)) {
    int64_t channels = int64_t(writeSums[w].size());
    if (!writeRows[w] || channels == 0)
      continue;
    std::vector<float> mean(channels);
    for (int64_t c = 0; c < channels; ++c)
      mean[c] = float(writeSums[w][c] / double(writeRows[w]));
    quant::setStatistic(write.projection, "cache_mean", mean);
  }
  return success();
}

namespace {

// Version 3 names each statistic it holds (version 2's four, and the Gram
// matrices when calibration kept them); versions 2 (with each channel's
// signed mean) and 1 (without) hold a fixed list, and still load.
constexpr char kCacheMagic[8] = {'K', 'I', 'L', 'N', 'C', 'A', 'L', '3'};
constexpr char kCacheMagicV2[8] = {'K', 'I', 'L', 'N', 'C', 'A', 'L', '2'};
constexpr char kCacheMagicV1[8] = {'K', 'I', 'L', 'N', 'C', 'A', 'L', '1'};
constexpr StringRef kStatsV2[] = {"abs_max", "abs_mean", "mean", "samples"};
constexpr StringRef kStatsV1[] = {"abs_max", "abs_mean", "samples"};

/// The weight products of `module`'s main function with their node names;
/// fails when two share a name (the cache could not tell them apart).
bool namedProducts(ModuleOp module,
                   SmallVectorImpl<std::pair<std::string, Operation *>> &out,
                   std::string &error) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  for (Operation *op : weightProducts(main)) {
    std::string name = quant::nodeName(op).str();
    if (llvm::any_of(out, [&](auto &entry) { return entry.first == name; })) {
      error = "two products are named '" + name +
              "': their statistics cannot be cached by name";
      return false;
    }
    out.emplace_back(name, op);
  }
  return true;
}

} // namespace

bool mlir::kiln::saveCalibration(ModuleOp module, const std::string &path,
                                 std::string &error) {
  SmallVector<std::pair<std::string, Operation *>> products;
  if (!namedProducts(module, products, error))
    return false;
  std::string bytes(kCacheMagic, sizeof kCacheMagic);
  auto put = [&](const void *data, size_t size) {
    bytes.append(static_cast<const char *>(data), size);
  };
  uint64_t count = products.size();
  put(&count, 8);
  for (auto &[name, op] : products) {
    auto stats = op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName);
    if (!stats) {
      error = "product '" + name + "' has no statistics to save";
      return false;
    }
    uint64_t length = name.size();
    put(&length, 8);
    put(name.data(), name.size());
    uint64_t fields = stats.size();
    put(&fields, 8);
    for (NamedAttribute field : stats) {
      StringRef key = field.getName().strref();
      uint64_t keyLength = key.size();
      put(&keyLength, 8);
      put(key.data(), key.size());
      auto elements = cast<DenseElementsAttr>(field.getValue());
      auto type = cast<RankedTensorType>(elements.getType());
      uint64_t rows = type.getRank() == 2 ? type.getDimSize(0) : 1;
      uint64_t k = type.getShape().back();
      put(&rows, 8);
      put(&k, 8);
      std::vector<float> values(elements.getValues<float>().begin(),
                                elements.getValues<float>().end());
      put(values.data(), values.size() * 4);
    }
  }
  std::error_code code;
  llvm::raw_fd_ostream out(path, code);
  if (code) {
    error = path + ": cannot write the calibration cache: " + code.message();
    return false;
  }
  out << bytes;
  return true;
}

bool mlir::kiln::loadCalibration(ModuleOp module, const std::string &path,
                                 std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = path + ": cannot read the calibration cache";
    return false;
  }
  StringRef bytes = (*buffer)->getBuffer();
  size_t at = 0;
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  auto take = [&](void *out, size_t size) {
    if (bytes.size() - at < size)
      return false;
    std::memcpy(out, bytes.data() + at, size);
    at += size;
    return true;
  };
  char magic[8];
  uint64_t count;
  if (!take(magic, 8) ||
      (std::memcmp(magic, kCacheMagic, 8) &&
       std::memcmp(magic, kCacheMagicV2, 8) &&
       std::memcmp(magic, kCacheMagicV1, 8)) ||
      !take(&count, 8))
    return fail("not a Kiln calibration cache");
  bool named = !std::memcmp(magic, kCacheMagic, 8);
  ArrayRef<StringRef> fixedKeys = std::memcmp(magic, kCacheMagicV2, 8)
                                      ? ArrayRef(kStatsV1)
                                      : ArrayRef(kStatsV2);
  SmallVector<std::pair<std::string, Operation *>> products;
  if (!namedProducts(module, products, error))
    return false;
  Builder b(module.getContext());
  llvm::StringMap<DictionaryAttr> entries;
  // A length-prefixed string.
  auto takeString = [&](std::string &out) {
    uint64_t length;
    if (!take(&length, 8) || length > bytes.size() - at)
      return false;
    out.assign(bytes.data() + at, length);
    at += length;
    return true;
  };
  // One statistic: [rows, k] floats, a vector when rows is 1 but for the
  // samples and the Gram matrix.
  auto takeField = [&](StringRef key, SmallVectorImpl<NamedAttribute> &out) {
    uint64_t rows, k;
    if (!take(&rows, 8) || !take(&k, 8) || k == 0 ||
        rows > (bytes.size() - at) / 4 / k)
      return false;
    std::vector<float> values(rows * k);
    take(values.data(), values.size() * 4);
    SmallVector<int64_t> shape;
    if (key == "samples" || key == "gram")
      shape.push_back(int64_t(rows));
    shape.push_back(int64_t(k));
    out.push_back(b.getNamedAttr(
        key,
        DenseElementsAttr::get(RankedTensorType::get(shape, b.getF32Type()),
                               ArrayRef(values))));
    return true;
  };
  for (uint64_t e = 0; e < count; ++e) {
    std::string name;
    if (!takeString(name))
      return fail("the calibration cache is truncated");
    SmallVector<NamedAttribute> fields;
    if (named) {
      uint64_t fieldCount;
      if (!take(&fieldCount, 8) || fieldCount > bytes.size() - at)
        return fail("the calibration cache is truncated");
      for (uint64_t f = 0; f < fieldCount; ++f) {
        std::string key;
        if (!takeString(key) || !takeField(key, fields))
          return fail("the calibration cache is truncated");
        if (llvm::count_if(fields, [&](NamedAttribute field) {
              return field.getName() == key;
            }) > 1)
          return fail("product '" + name + "' has two '" + key +
                      "' statistics: the cache is corrupt");
      }
      for (StringRef key : kStatsV1)
        if (llvm::none_of(fields, [&](NamedAttribute field) {
              return field.getName() == key;
            }))
          return fail("product '" + name + "' has no '" + key.str() +
                      "' statistics: the cache is corrupt");
    } else {
      for (StringRef key : fixedKeys)
        if (!takeField(key, fields))
          return fail("the calibration cache is truncated");
    }
    entries[name] = b.getDictionaryAttr(fields);
  }
  for (auto &[name, op] : products) {
    auto it = entries.find(name);
    int64_t k = quant::inputChannelsOf(op);
    if (it == entries.end())
      return fail("no statistics for product '" + name +
                  "': the cache is another model's");
    auto absMax = cast<DenseElementsAttr>(it->second.get("abs_max"));
    if (absMax.getNumElements() != k)
      return fail("product '" + name + "' has " + std::to_string(k) +
                  " input channels, the cache " +
                  std::to_string(absMax.getNumElements()) +
                  ": the cache is another model's");
    op->setAttr(kActivationStatsAttrName, it->second);
  }
  return true;
}
