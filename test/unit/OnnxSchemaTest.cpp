//===- OnnxSchemaTest.cpp - the generated operator table ------------------===//

#include "compiler/import/OnnxSchema.h"

#include <gtest/gtest.h>

using namespace mlir::kiln::onnx;

TEST(OnnxSchemaTest, VersionInForceAtAnOpset) {
  const OpSchemaInfo *squeeze = lookupOpSchema("Squeeze");
  ASSERT_NE(squeeze, nullptr);
  EXPECT_EQ(squeeze->versionAt(12), 11);
  EXPECT_EQ(squeeze->versionAt(13), 13);
  EXPECT_EQ(squeeze->versionAt(newestOpset()), squeeze->versions.back());
}

TEST(OnnxSchemaTest, OperatorsNewerThanTheOpsetAreAbsent) {
  const OpSchemaInfo *gelu = lookupOpSchema("Gelu");
  ASSERT_NE(gelu, nullptr);
  EXPECT_EQ(gelu->versionAt(17), 0);
  EXPECT_EQ(gelu->versionAt(20), 20);
}

TEST(OnnxSchemaTest, ParametersAndAttributesFollowTheSchema) {
  const OpSchemaInfo *clip = lookupOpSchema("Clip");
  ASSERT_NE(clip, nullptr);
  ASSERT_EQ(clip->inputs.size(), 3u);
  EXPECT_EQ(clip->inputs[1].kind, Param::Optional);
  const OpSchemaInfo *loop = lookupOpSchema("Loop");
  ASSERT_NE(loop, nullptr);
  ASSERT_NE(loop->findAttribute("body"), nullptr);
  EXPECT_EQ(loop->findAttribute("body")->kind, AttrKind::Graph);
  EXPECT_EQ(lookupOpSchema("NoSuchOp"), nullptr);
  EXPECT_EQ(lookupOpSchema("SequenceAt"), nullptr); // sequences: out of scope
}
