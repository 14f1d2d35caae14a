//===- PackageFormatTest.cpp - the .kiln layout shared by compiler and runtime -===//

#include "runtime/format/PackageFormat.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln::package;

namespace {

Manifest sampleManifest() {
  Manifest manifest;
  manifest.producer = "kiln test";
  manifest.modelName = "sample";
  manifest.target = "cpu";
  manifest.triple = "x86_64-pc-linux-gnu";
  manifest.cpu = "x86-64-v3";
  manifest.cpuFeatures = {"avx2", "fma"};
  manifest.compileOptions = {{"cpu", "x86-64-v3"}};
  manifest.weightsBytes = 4096;
  manifest.workspaceBytes = 123;
  manifest.dynamicBuffers = 2;
  manifest.inputs = {{"x", 1, {-1, 3}, {"batch", ""}}};
  manifest.outputs = {{"y", 7, {}, {}}, {"z", 9, {5}, {""}}};
  manifest.kernels = {{"conv1, relu1", 1000000}, {"pool", 0}};
  manifest.cache.capacity = 32;
  manifest.cache.pageTokens = 16;
  manifest.cache.pastDim = "past";
  manifest.cache.totalDim = "total";
  manifest.cache.newDim = "sequence";
  // A key cache and Quest's bounds of it (2 pages of 16: 4 rows).
  manifest.cache.states = {
      {"past.0.key", "present.0.key", 1, {1, 3, 32, 64}},
      {"past.0.key", "present.0.key", 1, {1, 3, 4, 64}, 16}};
  manifest.quantizedWeights = {{"/fc/MatMul", 4096, 1056}};
  return manifest;
}

TEST(PackageFormat, Crc32cMatchesTheStandardCheckValue) {
  // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  // Continuing a CRC equals computing it in one go.
  EXPECT_EQ(crc32c("6789", 4, crc32c("12345", 5)), 0xE3069283u);
}

TEST(PackageFormat, Crc32cOfLongBuffersUsesEveryByte) {
  std::string data(1000, 'a');
  uint32_t whole = crc32c(data.data(), data.size());
  data[997] = 'b';
  EXPECT_NE(crc32c(data.data(), data.size()), whole);
}

TEST(PackageFormat, ManifestRoundTrips) {
  Manifest manifest = sampleManifest();
  std::string bytes = serializeManifest(manifest);
  Manifest parsed;
  std::string error;
  ASSERT_TRUE(parseManifest(bytes.data(), bytes.size(), parsed, error))
      << error;
  EXPECT_EQ(parsed.modelName, "sample");
  EXPECT_EQ(parsed.cpuFeatures, manifest.cpuFeatures);
  EXPECT_EQ(parsed.compileOptions, manifest.compileOptions);
  EXPECT_EQ(parsed.weightsBytes, 4096u);
  EXPECT_EQ(parsed.workspaceBytes, 123u);
  EXPECT_EQ(parsed.dynamicBuffers, 2u);
  ASSERT_EQ(parsed.inputs.size(), 1u);
  EXPECT_EQ(parsed.inputs[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(parsed.inputs[0].dimNames,
            (std::vector<std::string>{"batch", ""}));
  ASSERT_EQ(parsed.outputs.size(), 2u);
  EXPECT_EQ(parsed.outputs[1].dtype, 9u);
  ASSERT_EQ(parsed.kernels.size(), 2u);
  EXPECT_EQ(parsed.kernels[0].name, "conv1, relu1");
  EXPECT_EQ(parsed.kernels[0].flops, 1000000u);
  EXPECT_EQ(parsed.totalFlops(), 1000000u);
  EXPECT_EQ(parsed.cache.capacity, 32);
  EXPECT_EQ(parsed.cache.pageTokens, 16);
  EXPECT_EQ(parsed.cache.totalDim, "total");
  EXPECT_EQ(parsed.cache.batchDim, "");
  EXPECT_EQ(parsed.cache.newDim, "sequence");
  ASSERT_EQ(parsed.quantizedWeights.size(), 1u);
  EXPECT_EQ(parsed.quantizedWeights[0].node, "/fc/MatMul");
  EXPECT_EQ(parsed.quantizedWeights[0].floatBytes, 4096u);
  EXPECT_EQ(parsed.quantizedWeights[0].bytes, 1056u);
  ASSERT_EQ(parsed.cache.states.size(), 2u);
  EXPECT_EQ(parsed.cache.states[0].present, "present.0.key");
  EXPECT_EQ(parsed.cache.states[0].shape,
            (std::vector<int64_t>{1, 3, 32, 64}));
  EXPECT_EQ(parsed.cache.states[0].boundsPage, 0);
  EXPECT_EQ(parsed.cache.states[1].boundsPage, 16);
  EXPECT_EQ(parsed.cache.states[1].shape, (std::vector<int64_t>{1, 3, 4, 64}));
}

TEST(PackageFormat, PageBoundsOfTheWrongShapeAreRefused) {
  Manifest manifest = sampleManifest();
  manifest.cache.states[1].shape = {1, 3, 32, 64};
  std::string bytes = serializeManifest(manifest);
  Manifest parsed;
  std::string error;
  EXPECT_FALSE(parseManifest(bytes.data(), bytes.size(), parsed, error));
  EXPECT_EQ(error, "the manifest's cache 'past.0.key' is not [1, heads, 2 x "
                   "pages, head_dim]");
}

TEST(PackageFormat, CachesOfTheWrongShapeAreRefused) {
  Manifest manifest = sampleManifest();
  manifest.cache.states[0].shape = {1, 3, 16, 64};
  std::string bytes = serializeManifest(manifest);
  Manifest parsed;
  std::string error;
  EXPECT_FALSE(parseManifest(bytes.data(), bytes.size(), parsed, error));
  EXPECT_EQ(error, "the manifest's cache 'past.0.key' is not [1, heads, "
                   "capacity, head_dim]");
}

TEST(PackageFormat, EveryTruncatedManifestIsRefused) {
  std::string bytes = serializeManifest(sampleManifest());
  for (size_t size = 0; size < bytes.size(); ++size) {
    Manifest parsed;
    std::string error;
    EXPECT_FALSE(parseManifest(bytes.data(), size, parsed, error))
        << "accepted " << size << " of " << bytes.size() << " bytes";
    EXPECT_NE(error.find("manifest"), std::string::npos) << error;
  }
}

TEST(PackageFormat, HugeCountsAreRefusedWithoutAllocating) {
  std::string bytes = serializeManifest(sampleManifest());
  // The feature count follows the version and five strings.
  size_t cursor = 4;
  for (int i = 0; i < 5; ++i) {
    uint32_t length;
    std::memcpy(&length, bytes.data() + cursor, 4);
    cursor += 4 + length;
  }
  uint32_t huge = 0xFFFFFFF0u;
  std::memcpy(bytes.data() + cursor, &huge, 4);
  Manifest parsed;
  std::string error;
  EXPECT_FALSE(parseManifest(bytes.data(), bytes.size(), parsed, error));
  EXPECT_EQ(error, "the manifest is malformed at its cpu features");
}

TEST(PackageFormat, OtherManifestVersionsAreNamed) {
  std::string bytes = serializeManifest(sampleManifest());
  bytes[0] = 9;
  Manifest parsed;
  std::string error;
  EXPECT_FALSE(parseManifest(bytes.data(), bytes.size(), parsed, error));
  EXPECT_EQ(error, "the manifest has version 9; this runtime reads version 6");
}

TEST(PackageFormat, TrailingBytesAreRefused) {
  std::string bytes = serializeManifest(sampleManifest()) + "x";
  Manifest parsed;
  std::string error;
  EXPECT_FALSE(parseManifest(bytes.data(), bytes.size(), parsed, error));
  EXPECT_EQ(error, "the manifest has trailing bytes");
}

} // namespace
