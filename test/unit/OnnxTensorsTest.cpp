//===- OnnxTensorsTest.cpp - ONNX tensor payloads to MLIR attributes ------===//

#include "compiler/import/OnnxTensors.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

class OnnxTensorsTest : public ::testing::Test {
protected:
  ::onnx::TensorProto tensor(int32_t dataType, std::vector<int64_t> dims) {
    ::onnx::TensorProto proto;
    proto.set_name("t");
    proto.set_data_type(dataType);
    for (int64_t dim : dims)
      proto.add_dims(dim);
    return proto;
  }

  FailureOr<ElementsAttr> convert(const ::onnx::TensorProto &proto,
                                  bool asResource = false) {
    TensorContext where;
    where.modelDirectory = ".";
    where.asResource = asResource;
    return convertTensor(&context, proto, where, error);
  }

  MLIRContext context;
  std::string error;
};

TEST_F(OnnxTensorsTest, FloatRawData) {
  auto proto = tensor(1, {2, 2});
  float values[] = {1.5f, -2.f, 3.f, 0.25f};
  proto.set_raw_data(values, sizeof(values));
  auto attr = convert(proto);
  ASSERT_TRUE(succeeded(attr)) << error;
  auto dense = cast<DenseElementsAttr>(*attr);
  EXPECT_EQ(dense.getValues<float>()[1], -2.f);
  EXPECT_EQ(dense.getValues<float>()[3], 0.25f);
}

TEST_F(OnnxTensorsTest, InitializersBecomeResources) {
  auto proto = tensor(7, {3});
  for (int64_t v : {4, 5, 6})
    proto.add_int64_data(v);
  auto attr = convert(proto, /*asResource=*/true);
  ASSERT_TRUE(succeeded(attr)) << error;
  auto resource = dyn_cast<DenseResourceElementsAttr>(*attr);
  ASSERT_TRUE(resource);
  ArrayRef<char> bytes = resource.getRawHandle().getBlob()->getData();
  ASSERT_EQ(bytes.size(), 24u);
  int64_t last;
  std::memcpy(&last, bytes.data() + 16, 8);
  EXPECT_EQ(last, 6);
}

TEST_F(OnnxTensorsTest, Float16FromInt32Data) {
  auto proto = tensor(10, {2});
  proto.add_int32_data(0x3C00); // 1.0
  proto.add_int32_data(0xC000); // -2.0
  auto attr = convert(proto);
  ASSERT_TRUE(succeeded(attr)) << error;
  auto values = cast<DenseElementsAttr>(*attr).getValues<APFloat>();
  EXPECT_EQ(values[0].convertToDouble(), 1.0);
  EXPECT_EQ(values[1].convertToDouble(), -2.0);
}

TEST_F(OnnxTensorsTest, Int4UnpacksLowNibbleFirstWithSign) {
  auto proto = tensor(22, {5});
  const char packed[] = {0x21, (char)0xF3, 0x07}; // 1 2 3 -1 7
  proto.set_raw_data(packed, sizeof(packed));
  auto attr = convert(proto);
  ASSERT_TRUE(succeeded(attr)) << error;
  auto values = cast<DenseElementsAttr>(*attr).getValues<APInt>();
  std::vector<int64_t> got;
  for (const APInt &v : values)
    got.push_back(v.getSExtValue());
  EXPECT_EQ(got, (std::vector<int64_t>{1, 2, 3, -1, 7}));
}

TEST_F(OnnxTensorsTest, BoolFromRawBytes) {
  auto proto = tensor(9, {3});
  proto.set_raw_data(std::string("\x01\x00\x02", 3));
  auto attr = convert(proto);
  ASSERT_TRUE(succeeded(attr)) << error;
  auto values = cast<DenseElementsAttr>(*attr).getValues<bool>();
  EXPECT_TRUE(values[0]);
  EXPECT_FALSE(values[1]);
  EXPECT_TRUE(values[2]);
}

TEST_F(OnnxTensorsTest, SizeMismatchNamesBothSizes) {
  auto proto = tensor(1, {2, 3});
  proto.set_raw_data(std::string(8, '\0'));
  EXPECT_TRUE(failed(convert(proto)));
  EXPECT_EQ(error, "has 8 bytes of data, but its shape 2x3 of float needs 24");
}

TEST_F(OnnxTensorsTest, NegativeDimensionIsRefused) {
  auto proto = tensor(1, {-1});
  EXPECT_TRUE(failed(convert(proto)));
  EXPECT_EQ(error, "has a negative dimension -1");
}

TEST_F(OnnxTensorsTest, StringsAreRefused) {
  auto proto = tensor(8, {1});
  proto.add_string_data("x");
  EXPECT_TRUE(failed(convert(proto)));
  EXPECT_EQ(error, "has element type string, which Kiln does not support");
}

TEST_F(OnnxTensorsTest, HugeShapeIsRefusedWithoutAllocating) {
  auto proto = tensor(1, {1 << 30, 1 << 30});
  EXPECT_TRUE(failed(convert(proto)));
  EXPECT_EQ(error, "is too large (more than 2^40 elements)");
}

} // namespace
