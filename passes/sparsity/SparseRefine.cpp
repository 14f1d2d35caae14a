//===- SparseRefine.cpp - kiln-sparsity-sparse-refine ---------------------===//
//
// A segmentation model's logits change little from one pixel to the next
// but at the objects' boundaries, which is where it is uncertain. So the
// model runs at low resolution, and again at full resolution only on the
// tiles that hold uncertain pixels (with the context around them their
// logits depend on); the other pixels take the upsampled low-resolution
// logits. The training-free refiner is the full-resolution model itself,
// run sparsely by tiles; a trained one is a sparse convolutional network
// run on the uncertain pixels alone, whose logits a trained ensembler
// blends with the low-resolution ones there.
//
// The model appears twice in the new @main (once with a trained refiner),
// each copy sized by shape inference on its own before they are joined.
//
//===----------------------------------------------------------------------===//

#include "passes/sparsity/Passes.h"
#include "passes/sparsity/SparseNetwork.h"

#include "passes/graph/OnnxSubgraph.h"
#include "passes/graph/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_SPARSITYSPARSEREFINEPASS
#include "passes/sparsity/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

std::string describe(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

struct SparsitySparseRefinePass
    : kiln::impl::SparsitySparseRefinePassBase<SparsitySparseRefinePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// A copy of `model` in `scope` over inputs of types `inputs`, every
  /// intermediate's shape cleared for shape inference to find again.
  func::FuncOp copyModel(func::FuncOp model, ModuleOp scope, StringRef name,
                         TypeRange inputs);
  /// The function a trained network's option names: null (after an error)
  /// where there is none with a count of inputs among `inputs` (which
  /// `takes` describes) and one output.
  func::FuncOp trainedNetwork(StringRef symbol, StringRef what,
                              ArrayRef<unsigned> inputs, StringRef takes);
  /// Builds the new body of `main` from the sized copies: the
  /// low-resolution model, and the windows' model or the ensembler (null
  /// without).
  LogicalResult join(func::FuncOp main, func::FuncOp low,
                     func::FuncOp refinement, RankedTensorType logits);
  /// The steps after the low-resolution run: the tiles of the selected
  /// pixels re-run by `windows`, their logits merged.
  Value refineTiles(OnnxSubgraph &g, Value image, Value lowLogits, Value mask,
                    func::FuncOp windows, RankedTensorType logitsType);
  /// Or the selected pixels' sites run through the trained refiner, blended
  /// by `ensembler` (when there is one) and scattered.
  FailureOr<Value> refineSites(OnnxSubgraph &g, Value image, Value lowLogits,
                               Value mask, func::FuncOp ensembler,
                               RankedTensorType logitsType);
};

/// A copy of `source`'s body at `b` on `inputs`: its first output.
Value inlineModel(OpBuilder &b, func::FuncOp source, ValueRange inputs) {
  IRMapping mapping;
  Block &from = source.getBody().front();
  mapping.map(from.getArguments(), inputs);
  for (Operation &op : from.without_terminator())
    b.clone(op, mapping);
  return mapping.lookup(from.getTerminator()->getOperand(0));
}

func::FuncOp SparsitySparseRefinePass::copyModel(func::FuncOp model,
                                                 ModuleOp scope, StringRef name,
                                                 TypeRange inputs) {
  OpBuilder b = OpBuilder::atBlockEnd(scope.getBody());
  auto copy = cast<func::FuncOp>(b.clone(*model));
  copy.setName(name);
  Block &body = copy.getBody().front();
  for (auto [argument, type] : llvm::zip(body.getArguments(), inputs))
    argument.setType(type);
  for (Operation &op : body.without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>())
      continue;
    for (Value result : op.getResults())
      if (auto type = dyn_cast<TensorType>(result.getType()))
        result.setType(UnrankedTensorType::get(type.getElementType()));
  }
  auto results = body.getTerminator()->getOperandTypes();
  copy.setFunctionType(
      FunctionType::get(&getContext(), inputs, TypeRange(results)));
  return copy;
}

func::FuncOp SparsitySparseRefinePass::trainedNetwork(StringRef symbol,
                                                      StringRef what,
                                                      ArrayRef<unsigned> inputs,
                                                      StringRef takes) {
  auto network = getOperation().lookupSymbol<func::FuncOp>(symbol);
  if (!network || network.isExternal()) {
    getOperation().emitError("SparseRefine's ")
        << what << " @" << symbol << " is not a function of the module";
    return {};
  }
  if (!llvm::is_contained(inputs, network.getNumArguments()) ||
      network.getNumResults() != 1) {
    network.emitError("SparseRefine's ")
        << what << " takes " << takes << " and gives one output, not "
        << network.getFunctionType();
    return {};
  }
  return network;
}

void SparsitySparseRefinePass::runOnOperation() {
  ModuleOp module = getOperation();
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.isExternal()) {
    module.emitError("SparseRefine needs the model's @main");
    return signalPassFailure();
  }
  auto image = dyn_cast<RankedTensorType>(
      main.getNumArguments() == 1 ? main.getArgumentTypes()[0] : Type());
  if (!image || !image.hasStaticShape() || image.getRank() != 4 ||
      image.getDimSize(0) != 1 || !isa<FloatType>(image.getElementType()) ||
      main.getNumResults() != 1) {
    main.emitError("SparseRefine takes a model of one image [1, C, H, W] of "
                   "static shape and one output, not ")
        << main.getFunctionType();
    return signalPassFailure();
  }
  int64_t height = image.getDimSize(2), width = image.getDimSize(3);
  // The options as plain values (a pass option streams as its flag).
  int64_t lowHeight = this->lowHeight, lowWidth = this->lowWidth;
  int64_t tile = this->tile, halo = this->halo;
  bool trained = !refiner.empty();
  if (lowHeight < 1 || lowWidth < 1 || height % lowHeight || width % lowWidth ||
      (lowHeight == height && lowWidth == width)) {
    main.emitError("SparseRefine's low resolution ")
        << lowHeight << "x" << lowWidth << " does not divide the image's "
        << height << "x" << width << " into a lower one";
    return signalPassFailure();
  }
  if ((threshold < 0) == (fraction < 0) || fraction > 1) {
    main.emitError("SparseRefine needs either a threshold (not negative) or "
                   "a fraction in [0, 1] of pixels to refine");
    return signalPassFailure();
  }
  int64_t scaleY = height / lowHeight, scaleX = width / lowWidth;
  if (maxTiles < 0) {
    main.emitError("SparseRefine's tile budget cannot be negative, not ")
        << int64_t(maxTiles);
    return signalPassFailure();
  }
  if (!trained && (tile < 1 || halo < 0 || tile % scaleY || tile % scaleX ||
                   tile + 2 * halo > std::min(height, width))) {
    main.emitError("SparseRefine's tiles of ")
        << tile << " pixels with a halo of " << halo
        << " must be whole low-resolution pixels of " << scaleY << "x" << scaleX
        << " and their windows fit in the image of " << height << "x" << width;
    return signalPassFailure();
  }
  if (!trained && !ensembler.empty()) {
    main.emitError("SparseRefine's ensembler blends a trained refiner's "
                   "logits: it needs one");
    return signalPassFailure();
  }
  func::FuncOp refinerNetwork, ensemblerNetwork;
  if (trained) {
    if (!image.getElementType().isF32()) {
      main.emitError("SparseRefine's trained refiner takes an f32 image, not ")
          << image;
      return signalPassFailure();
    }
    refinerNetwork = trainedNetwork(
        refiner, "refiner", {1, 2},
        "one or two inputs (the image, and the upsampled logits)");
    if (!refinerNetwork)
      return signalPassFailure();
    if (!ensembler.empty() &&
        !(ensemblerNetwork = trainedNetwork(
              ensembler, "ensembler", {2},
              "two inputs (the low-resolution and the refined logits)")))
      return signalPassFailure();
  }

  // The copies, sized apart in a scope of their own.
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  auto scope = b.create<ModuleOp>(main.getLoc());
  int64_t window = tile + 2 * halo;
  Type element = image.getElementType();
  int64_t channels = image.getDimSize(1);
  func::FuncOp low = copyModel(
      main, scope, "low",
      RankedTensorType::get({1, channels, lowHeight, lowWidth}, element));
  OpPassManager sizing(ModuleOp::getOperationName());
  addGraphSizingPasses(sizing.nest<func::FuncOp>());
  if (failed(runPipeline(sizing, scope))) {
    scope.erase();
    return signalPassFailure();
  }
  // Per-pixel logits of each copy's resolution.
  auto logitsOf = [&](func::FuncOp copy, int64_t batch, int64_t rows,
                      int64_t columns) -> RankedTensorType {
    auto type = dyn_cast<RankedTensorType>(copy.getResultTypes()[0]);
    if (type && type.getRank() == 4 && isa<FloatType>(type.getElementType()) &&
        type.getDimSize(0) == batch && !type.isDynamicDim(1) &&
        type.getDimSize(2) == rows && type.getDimSize(3) == columns)
      return type;
    main.emitError("SparseRefine refines per-pixel logits [1, K, H, W] of the "
                   "input's resolution; at ")
        << rows << "x" << columns << " the model gives "
        << describe(copy.getResultTypes()[0])
        << " (not per-pixel, or sized by constants fixed at export)";
    return {};
  };
  RankedTensorType lowLogits = logitsOf(low, 1, lowHeight, lowWidth);
  if (!lowLogits) {
    scope.erase();
    return signalPassFailure();
  }
  // The second copy: the model over the windows, or the ensembler over
  // rows of logits.
  auto rows = RankedTensorType::get(
      {ShapedType::kDynamic, lowLogits.getDimSize(1)}, b.getF32Type());
  func::FuncOp refinement;
  if (!trained) {
    refinement = copyModel(
        main, scope, "windows",
        RankedTensorType::get({ShapedType::kDynamic, channels, window, window},
                              element));
  } else if (ensemblerNetwork) {
    refinement =
        copyModel(ensemblerNetwork, scope, "ensembler", TypeRange{rows, rows});
  }
  if (refinement && failed(runPipeline(sizing, scope))) {
    scope.erase();
    return signalPassFailure();
  }
  if (!trained && !logitsOf(refinement, ShapedType::kDynamic, window, window)) {
    scope.erase();
    return signalPassFailure();
  }
  if (ensemblerNetwork) {
    if (refinement.getResultTypes()[0] != rows) {
      ensemblerNetwork.emitError("SparseRefine's ensembler gives ")
          << describe(refinement.getResultTypes()[0]) << " for logits " << rows
          << ", not logits of the same shape";
      scope.erase();
      return signalPassFailure();
    }
  }
  LogicalResult joined =
      join(main, low, refinement,
           RankedTensorType::get({1, lowLogits.getDimSize(1), height, width},
                                 lowLogits.getElementType()));
  scope.erase();
  if (failed(joined))
    return signalPassFailure();
  // The trained networks now live in @main.
  if (refinerNetwork)
    refinerNetwork.erase();
  if (ensemblerNetwork)
    ensemblerNetwork.erase();
}

LogicalResult SparsitySparseRefinePass::join(func::FuncOp main,
                                             func::FuncOp low,
                                             func::FuncOp refinement,
                                             RankedTensorType logitsType) {
  // The options as plain values (a pass option streams as its flag).
  int64_t lowHeight = this->lowHeight, lowWidth = this->lowWidth;
  double fraction = this->fraction, threshold = this->threshold;
  Block &old = main.getBody().front();
  Block *body = new Block();
  main.getBody().push_back(body);
  Value image = body->addArgument(old.getArgument(0).getType(), main.getLoc());
  auto imageType = cast<RankedTensorType>(image.getType());
  int64_t height = imageType.getDimSize(2), width = imageType.getDimSize(3);
  int64_t scaleY = height / lowHeight, scaleX = width / lowWidth;
  Location loc = main.getLoc();
  OpBuilder b = OpBuilder::atBlockEnd(body);
  OnnxSubgraph g(b, loc);
  Type f32 = b.getF32Type(), i1 = b.getI1Type();
  auto ranked = [](ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  };

  // 1. The model at low resolution, on the image averaged down.
  auto pooled = b.create<onnx::AveragePoolOp>(
      loc,
      ranked({1, imageType.getDimSize(1), lowHeight, lowWidth},
             imageType.getElementType()),
      image, "NOTSET", 0, 0, ArrayAttr(), b.getI64ArrayAttr({scaleY, scaleX}),
      ArrayAttr(), b.getI64ArrayAttr({scaleY, scaleX}));
  Value lowLogits = inlineModel(b, low, pooled.getResult());
  auto lowType = cast<RankedTensorType>(lowLogits.getType());

  // 2. The entropy of its classes' softmax at each pixel, and the mask of
  // the pixels to refine.
  Type element = lowType.getElementType();
  auto entropyType = ranked({1, 1, lowHeight, lowWidth}, element);
  Value probabilities = b.create<onnx::SoftmaxOp>(loc, lowType, lowLogits, 1);
  Value clamped = b.create<onnx::MaxOp>(
      loc, lowType, ValueRange{probabilities, g.splat(element, 1e-5)});
  Value terms =
      b.create<onnx::MulOp>(loc, lowType, probabilities,
                            b.create<onnx::LogOp>(loc, lowType, clamped));
  Value entropy = b.create<onnx::NegOp>(
      loc, entropyType,
      b.create<onnx::ReduceSumOp>(loc, entropyType, terms, g.ints({1}), 1));
  entropy = g.castTo(entropy, f32);
  entropy.setType(ranked({1, 1, lowHeight, lowWidth}, f32));
  auto maskType = ranked({1, 1, lowHeight, lowWidth}, i1);
  Value mask;
  if (fraction >= 0) {
    Value cut = b.create<EntropyCutOp>(
                     loc, TypeRange{ranked({1}, f32)}, entropy,
                     b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{1}, f32),
                     b.getF64FloatAttr(fraction))
                    .getResult()[0];
    mask = b.create<onnx::GreaterOrEqualOp>(loc, maskType, entropy, cut);
  } else {
    mask = b.create<onnx::GreaterOp>(loc, maskType, entropy,
                                     g.splat(f32, threshold));
  }

  // 3-4. The selected pixels refined, the others' logits upsampled.
  Value logits;
  if (refiner.empty()) {
    logits = refineTiles(g, image, lowLogits, mask, refinement, logitsType);
  } else {
    FailureOr<Value> refined =
        refineSites(g, image, lowLogits, mask, refinement, logitsType);
    if (failed(refined)) {
      body->erase();
      return failure();
    }
    logits = *refined;
  }
  b.create<func::ReturnOp>(loc, logits);

  // The new body replaces the old, under the same names.
  old.dropAllDefinedValueUses();
  old.erase();
  main.setFunctionType(
      FunctionType::get(&getContext(), {imageType}, {logitsType}));
  return success();
}

Value SparsitySparseRefinePass::refineTiles(OnnxSubgraph &g, Value image,
                                            Value lowLogits, Value mask,
                                            func::FuncOp windows,
                                            RankedTensorType logitsType) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  int64_t tile = this->tile, halo = this->halo;
  int64_t window = tile + 2 * halo;
  auto imageType = cast<RankedTensorType>(image.getType());
  int64_t height = imageType.getDimSize(2), width = imageType.getDimSize(3);
  int64_t scaleY = height / lowHeight, scaleX = width / lowWidth;
  Type i32 = b.getI32Type();
  // The tiles holding a selected pixel, their windows, and the model on
  // them.
  int64_t tiles =
      llvm::divideCeil(height, tile) * llvm::divideCeil(width, tile);
  auto tableType = RankedTensorType::get({1 + 2 * tiles}, i32);
  Value table = b.create<RefineTilesOp>(
                     loc, TypeRange{tableType}, mask,
                     b.create<tensor::EmptyOp>(loc, tableType.getShape(), i32),
                     b.getDenseI64ArrayAttr({tile / scaleY, tile / scaleX}),
                     b.getI64IntegerAttr(maxTiles))
                    .getResult()[0];
  Value listed = tableCount(b, loc, table);
  auto windowsType = RankedTensorType::get(
      {ShapedType::kDynamic, imageType.getDimSize(1), window, window},
      imageType.getElementType());
  auto tileAttr = b.getDenseI64ArrayAttr({tile, tile});
  auto haloAttr = b.getDenseI64ArrayAttr({halo, halo});
  Value gathered = b.create<GatherWindowsOp>(
                        loc, TypeRange{windowsType}, image, table,
                        b.create<tensor::EmptyOp>(loc, windowsType.getShape(),
                                                  windowsType.getElementType(),
                                                  ValueRange{listed}),
                        tileAttr, haloAttr)
                       .getResult()[0];
  Value refined = inlineModel(b, windows, gathered);
  // The logits: upsampled, refined where selected.
  return b
      .create<MergeRefinedOp>(
          loc, TypeRange{logitsType}, lowLogits, mask, refined, table,
          b.create<tensor::EmptyOp>(loc, logitsType.getShape(),
                                    logitsType.getElementType()),
          tileAttr, haloAttr)
      .getResult()[0];
}

FailureOr<Value> SparsitySparseRefinePass::refineSites(
    OnnxSubgraph &g, Value image, Value lowLogits, Value mask,
    func::FuncOp ensemblerCopy, RankedTensorType logitsType) {
  OpBuilder &b = g.b;
  Location loc = g.loc;
  auto imageType = cast<RankedTensorType>(image.getType());
  int64_t height = imageType.getDimSize(2), width = imageType.getDimSize(3);
  int64_t scaleY = height / lowHeight, scaleX = width / lowWidth;
  int64_t classes = logitsType.getDimSize(1);
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  if (!logitsType.getElementType().isF32()) {
    emitError(loc, "SparseRefine's trained refiner blends f32 logits, not ")
        << logitsType.getElementType();
    return failure();
  }
  // The selected pixels' sites, and their rows of the image's values (and
  // of the upsampled logits).
  auto tableType = RankedTensorType::get({1 + height * width}, i32);
  Value sites = b.create<ListSitesOp>(
                     loc, TypeRange{tableType}, mask,
                     b.create<tensor::EmptyOp>(loc, tableType.getShape(), i32),
                     b.getDenseI64ArrayAttr({scaleY, scaleX}))
                    .getResult()[0];
  Value count = tableCount(b, loc, sites);
  auto gather = [&](Value from, int64_t scaleY, int64_t scaleX) {
    int64_t columns = cast<RankedTensorType>(from.getType()).getDimSize(1);
    auto type = RankedTensorType::get({ShapedType::kDynamic, columns}, f32);
    return b
        .create<GatherSitesOp>(loc, TypeRange{type}, from, sites,
                               b.create<tensor::EmptyOp>(loc, type.getShape(),
                                                         f32,
                                                         ValueRange{count}),
                               b.getDenseI64ArrayAttr({scaleY, scaleX}))
        .getResult()[0];
  };
  auto refinerNetwork = getOperation().lookupSymbol<func::FuncOp>(refiner);
  SmallVector<Value> inputs = {gather(image, 1, 1)};
  Value upsampled;
  if (refinerNetwork.getNumArguments() == 2 || ensemblerCopy)
    upsampled = gather(lowLogits, scaleY, scaleX);
  if (refinerNetwork.getNumArguments() == 2)
    inputs.push_back(upsampled);
  FailureOr<Value> refined = buildSparseNetwork(
      b, refinerNetwork, {sites, height, width, count}, inputs);
  if (failed(refined))
    return failure();
  auto rowsType = RankedTensorType::get({ShapedType::kDynamic, classes}, f32);
  if (refined->getType() != rowsType) {
    refinerNetwork.emitError("SparseRefine's refiner gives ")
        << cast<RankedTensorType>(refined->getType()).getDimSize(1)
        << " logits a pixel where the model gives " << classes;
    return failure();
  }
  Value blended = *refined;
  if (ensemblerCopy)
    blended = inlineModel(b, ensemblerCopy, ValueRange{upsampled, *refined});

  // The low-resolution logits upsampled (nearest), the blended ones
  // written at the sites.
  Value everywhere = b.create<onnx::ResizeOp>(
      loc, logitsType, lowLogits, Value(),
      onnx::createConstant(
          b, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({4}, f32),
              ArrayRef<float>{1.0f, 1.0f, (float)scaleY, (float)scaleX})),
      Value(), 0, ArrayAttr(), "asymmetric", APFloat(-0.75f), 0, APFloat(0.0f),
      "stretch", "nearest", "floor");
  return b
      .create<ScatterSitesOp>(loc, TypeRange{logitsType}, blended, sites,
                              everywhere)
      .getResult()[0];
}

} // namespace
