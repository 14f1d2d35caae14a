// Contractions become 64x64-tiled GEMM kernels staged through shared
// memory; the precision picks CUDA-core FMAs or a tensor-core MMA. The
// batched product with a transposed B is read through its strides.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s --check-prefixes=CHECK,FP32
// RUN: kiln-translate --kiln-to-cuda --kiln-cuda-precision=tf32 %s | FileCheck %s --check-prefixes=CHECK,TF32
// RUN: kiln-translate --kiln-to-cuda --kiln-cuda-precision=fp16 %s | FileCheck %s --check-prefixes=CHECK,FP16
// RUN: kiln-translate --kiln-to-cuda --kiln-cuda-precision=bf16 %s | FileCheck %s --check-prefixes=CHECK,BF16

// CHECK-LABEL: void kiln_kernel_0(
// CHECK: // GEMM C += A * B: M=70, N=50, K=37, batch 3; 64x64 tiles,
// CHECK: const int64_t batch0 = (int64_t(blockIdx.z) / 1) % 3;
// CHECK: const float *a = reinterpret_cast<const float *>(input0) + 0 + batch0 * 2590;
// CHECK: const float *b = reinterpret_cast<const float *>(weights) + 0 + batch0 * 1850;
// CHECK: auto loadA = [&](Index m, Index k) { return m < M && k < K ? a[m * 37 + k] : 0.0f; };
// CHECK: auto loadB = [&](Index k, Index n) { return k < K && n < N ? b[k + n * 37] : 0.0f; };
// Neither operand is in 16-byte runs (K = 37): both tiles go through
// registers, two stages.
// FP32: __shared__ __align__(16) float tileA[2][64][20]; // [stage][m][k]
// FP32: tileA[s][x][kk] = loadA(m0 + x, k0 + kk);
// FP32: tileB[s][kk][x] = loadB(k0 + kk, n0 + x);
// FP32: kiln::cuda::cpAsyncWait<1>();
// FP32: acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
// TF32: kiln::cuda::mmaTf32(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
// FP16: tileA[x][kk] = kiln::cuda::floatToF16(loadA(m0 + x, k0 + kk));
// FP16: kiln::cuda::ldmatrixX4(af[mi], &tileA[wm * 32 + mi * 16 + (lane & 15)][kk + 8 * (lane >> 4)]);
// FP16: kiln::cuda::ldmatrixX4(r, &tileB[wn * 32 + ni * 8 + (lane & 7) + 8 * (lane >> 4)][kk + 8 * ((lane >> 3) & 1)]);
// FP16: kiln::cuda::mmaF16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
// BF16: kiln::cuda::ldmatrixX4(af[mi],
// BF16: kiln::cuda::mmaBf16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
// CHECK: c[m * 50 + n] += acc

// A Linear layer on [batch, tokens, features]: B has no batch dimension,
// so batch and tokens fold into one M of 3 * 70.
// CHECK-LABEL: void kiln_kernel_1(
// CHECK: // GEMM C += A * B: M=210, N=50, K=37, batch 1;
// CHECK: auto loadB = [&](Index k, Index n) { return k < K && n < N ? b[k * 50 + n] : 0.0f; };
// Row-major 64x96 times 96x128 at aligned offsets: both tiles are
// staged with cp.async, except where a chunk is outside the matrices.
// CHECK-LABEL: void kiln_kernel_2(
// CHECK: // GEMM C += A * B: M=64, N=128, K=96, batch 1;
// FP32: kiln::cuda::cpAsync16(&tileA[s][x][kk], &a[m * 96 + k]);
// FP32: tileA[s][x][kk + i] = 0.0f;
// FP32: kiln::cuda::cpAsync16(&tileB[s][kk][x], &b[k * 128 + n]);
// TF32: kiln::cuda::cpAsync16(&tileA[s][x][kk], &a[m * 96 + k]);
// TF32: kiln::cuda::cpAsync16(&tileB[s][kk][x], &b[k * 128 + n]);
// FP16-NOT: cpAsync16
// FP32: //   kiln_kernel_0<<<dim3(1, 2, 3), 256>>>
// FP32: //   kiln_kernel_1<<<dim3(1, 4, 1), 256>>>
// TF32: //   kiln_kernel_0<<<dim3(1, 2, 3), 128>>>
// TF32: //   kiln_kernel_1<<<dim3(1, 4, 1), 128>>>
#map_a = affine_map<(b, m, n, k) -> (b, m, k)>
#map_b = affine_map<(b, m, n, k) -> (b, n, k)>
#map_c = affine_map<(b, m, n, k) -> (b, m, n)>
#map_w = affine_map<(b, m, n, k) -> (k, n)>
module {
  func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %a: memref<3x70x37xf32>, %lhs: memref<64x96xf32>) -> (memref<3x70x50xf32>, memref<3x70x50xf32>, memref<64x128xf32>) {
    %c0 = arith.constant 0 : index
    %b = memref.view %weights[%c0][] : memref<?xi8> to memref<3x50x37xf32>
    %c = memref.alloc() : memref<3x70x50xf32>
    linalg.generic {indexing_maps = [#map_a, #map_b, #map_c],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<3x70x37xf32>, memref<3x50x37xf32>) outs(%c : memref<3x70x50xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    %c2 = arith.constant 7424 : index
    %w = memref.view %weights[%c2][] : memref<?xi8> to memref<37x50xf32>
    %d = memref.alloc() : memref<3x70x50xf32>
    linalg.generic {indexing_maps = [#map_a, #map_w, #map_c],
                    iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%a, %w : memref<3x70x37xf32>, memref<37x50xf32>) outs(%d : memref<3x70x50xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    %c3 = arith.constant 16384 : index
    %rhs = memref.view %weights[%c3][] : memref<?xi8> to memref<96x128xf32>
    %z = memref.alloc() : memref<64x128xf32>
    linalg.matmul ins(%lhs, %rhs : memref<64x96xf32>, memref<96x128xf32>) outs(%z : memref<64x128xf32>)
    return %c, %d, %z : memref<3x70x50xf32>, memref<3x70x50xf32>, memref<64x128xf32>
  }
}
