// Convolutions run as implicit GEMMs on the tiled kernels: M the filters,
// N the images and output positions, K the channels and kernel taps, with
// B's tile gathered from the padded input through each loop's stride (no
// im2col buffer). Groups are the batch. A depthwise convolution, one filter
// per group, would leave a 64-row tile nearly idle and stays per-element.
// RUN: kiln-opt --kiln-cuda-lower-to-loops --lower-affine %s | kiln-translate --kiln-to-cuda | FileCheck %s --check-prefixes=CHECK,FP32
// RUN: kiln-opt --kiln-cuda-lower-to-loops --lower-affine %s | kiln-translate --kiln-to-cuda --kiln-cuda-precision=tf32 | FileCheck %s --check-prefixes=CHECK,TF32
// RUN: kiln-opt --kiln-cuda-lower-to-loops --lower-affine %s | kiln-translate --kiln-to-cuda --kiln-cuda-precision=fp16 | FileCheck %s --check-prefixes=CHECK,FP16

// A 3x3 convolution with stride 2 over a 17x17 padded input: the input is
// the op's first operand, but C is contiguous along the output positions,
// so the weights become A.
// CHECK-LABEL: void kiln_kernel_0(
// CHECK: // GEMM C += A * B: M=32, N=64, K=36, batch 1; 64x64 tiles,
// CHECK: using Index = uint32_t;
// CHECK: const float *a = reinterpret_cast<const float *>(weights) + 0;
// CHECK: const float *b = reinterpret_cast<const float *>(input0) + 0;
// CHECK: auto loadA = [&](Index m, Index k) { return m < M && k < K ? a[m * 36 + k] : 0.0f; };
// CHECK: auto loadB = [&](Index k, Index n) { return k < K && n < N ? b[(k / 9) * 289 + (k / 3 % 3) * 17 + k % 3 + (n / 8) * 34 + (n % 8) * 2] : 0.0f; };
// The weights' rows are 16-byte runs: cp.async stages them; the input
// is gathered through registers.
// FP32: kiln::cuda::cpAsync16(&tileA[s][x][kk], &a[m * 36 + k]);
// FP32: tileB[s][kk][x] = loadB(k0 + kk, n0 + x);
// FP32: acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
// TF32: kiln::cuda::mmaTf32(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
// FP16: kiln::cuda::mmaF16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
// CHECK: c[m * 64 + n] += acc

// Two images, two groups of 16 filters over 8 channels each, 1x1 kernel
// with dilation 2 on the batch of output positions: the image loop joins
// N, the group loop is the batch.
// CHECK-LABEL: void kiln_kernel_1(
// CHECK: // GEMM C += A * B: M=16, N=200, K=8, batch 2; 64x64 tiles,
// CHECK: const int64_t batch0 = (int64_t(blockIdx.z) / 1) % 2;
// CHECK: const float *a = reinterpret_cast<const float *>((weights + 18432)) + 0 + batch0 * 128;
// CHECK: const float *b = reinterpret_cast<const float *>(input1) + 0 + batch0 * 800;
// CHECK: auto loadB = [&](Index k, Index n) { return k < K && n < N ? b[k * 100 + (n / 100) * 1600 + n % 100] : 0.0f; };
// CHECK: c[m * 100 + (n / 100) * 3200 + n % 100] += acc

// Depthwise: per-element loops.
// CHECK-LABEL: void kiln_kernel_2(
// CHECK-NOT: GEMM
// CHECK: for (int64_t i6 = 0; i6 < 3; i6 += 1) {
// FP32: //   kiln_kernel_0<<<1, 256>>>
// FP32: //   kiln_kernel_1<<<dim3(4, 1, 2), 256>>>
// TF32: //   kiln_kernel_0<<<1, 128>>>
// TF32: //   kiln_kernel_1<<<dim3(4, 1, 2), 128>>>
// CHECK: //   kiln_kernel_2<<<4, 256>>>
#conv_in = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh * 2 + kh, ow * 2 + kw)>
#conv_w = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (g, f, c, kh, kw)>
#conv_out = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, f, oh, ow)>
#dil_in = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh + kh * 2, ow + kw * 2)>
#dw_in = affine_map<(n, g, f, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
module {
  func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace},
                  %x: memref<1x1x4x17x17xf32>, %y: memref<2x2x8x10x10xf32>, %z: memref<1x16x1x10x10xf32>)
      -> (memref<1x1x32x8x8xf32>, memref<2x2x16x10x10xf32>, memref<1x16x1x8x8xf32>) {
    %c0 = arith.constant 0 : index
    %w = memref.view %weights[%c0][] : memref<?xi8> to memref<1x32x4x3x3xf32>
    %out = memref.alloc() : memref<1x1x32x8x8xf32>
    linalg.generic {indexing_maps = [#conv_in, #conv_w, #conv_out],
                    iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
        ins(%x, %w : memref<1x1x4x17x17xf32>, memref<1x32x4x3x3xf32>) outs(%out : memref<1x1x32x8x8xf32>) {
    ^bb0(%i: f32, %k: f32, %acc: f32):
      %p = arith.mulf %i, %k : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    %c1 = arith.constant 18432 : index
    %w1 = memref.view %weights[%c1][] : memref<?xi8> to memref<2x16x8x1x1xf32>
    %out1 = memref.alloc() : memref<2x2x16x10x10xf32>
    linalg.generic {indexing_maps = [#dil_in, #conv_w, #conv_out],
                    iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
        ins(%y, %w1 : memref<2x2x8x10x10xf32>, memref<2x16x8x1x1xf32>) outs(%out1 : memref<2x2x16x10x10xf32>) {
    ^bb0(%i: f32, %k: f32, %acc: f32):
      %p = arith.mulf %i, %k : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    %c2 = arith.constant 19456 : index
    %w2 = memref.view %weights[%c2][] : memref<?xi8> to memref<16x1x1x3x3xf32>
    %out2 = memref.alloc() : memref<1x16x1x8x8xf32>
    linalg.generic {indexing_maps = [#dw_in, #conv_w, #conv_out],
                    iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
        ins(%z, %w2 : memref<1x16x1x10x10xf32>, memref<16x1x1x3x3xf32>) outs(%out2 : memref<1x16x1x8x8xf32>) {
    ^bb0(%i: f32, %k: f32, %acc: f32):
      %p = arith.mulf %i, %k : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    return %out, %out1, %out2 : memref<1x1x32x8x8xf32>, memref<2x2x16x10x10xf32>, memref<1x16x1x8x8xf32>
  }
}
