# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "KILN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root)

# Checks are strict: captured variables do not leak between CHECK-LABELs
# and every prefix a RUN line names must be used.
config.environment["FILECHECK_OPTS"] = (
    "-enable-var-scope --allow-unused-prefixes=false")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

lib = os.path.join(config.kiln_src_root, "test", "lib")
config.substitutions.append(("%python", config.python_executable))
# %onnx-text FILE OUT: the ONNX text-syntax model in FILE as OUT (.onnx).
config.substitutions.append(
    ("%onnx-text", f"{config.python_executable} {lib}/onnx_text.py"))
# %package-tool CMD IN OUT ...: a damaged copy of a package (test/lib).
config.substitutions.append(
    ("%package-tool", f"{config.python_executable} {lib}/package_tool.py"))
# %make-model CASE OUT: one of the hand-built models of make_model.py.
config.substitutions.append(
    ("%make-model", f"{config.python_executable} {lib}/make_model.py"))

# %run-on-cpu: linalg on tensors (the tensor stage's output) through
# upstream MLIR's reference lowering to LLVM, run by mlir-cpu-runner with
# `main` as entry. It checks the numbers of the lowering before Kiln has
# its own code generation.
runner_libs = ",".join(
    os.path.join(config.llvm_tools_dir, "..", "lib", name)
    for name in ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
lower_to_llvm = ",".join([
    "one-shot-bufferize{bufferize-function-boundaries}",
    "convert-linalg-to-loops", "convert-math-to-libm", "convert-scf-to-cf",
    "expand-strided-metadata", "lower-affine", "convert-math-to-llvm",
    "convert-arith-to-llvm", "finalize-memref-to-llvm", "convert-func-to-llvm",
    "convert-cf-to-llvm", "reconcile-unrealized-casts"])
config.substitutions.append(
    ("%run-on-cpu",
     f"{config.llvm_tools_dir}/mlir-opt --pass-pipeline='builtin.module({lower_to_llvm})' | "
     f"{config.llvm_tools_dir}/mlir-cpu-runner -e main -entry-point-result=void "
     f"-shared-libs={runner_libs}"))

tools = [ToolSubst("kiln", unresolved="fatal"),
         ToolSubst("kiln-opt", unresolved="fatal"),
         ToolSubst("kiln-translate", unresolved="fatal"),
         ToolSubst("kiln-c-api-example", unresolved="fatal"),
         ToolSubst("kiln-runtime-concurrency", unresolved="fatal")]
llvm_config.add_tool_substitutions(tools, [config.kiln_tools_dir])

# CUDA: `nvcc` where the toolkit is installed; `cuda-gpu` where a GPU and
# its driver are present (tests that need one are reported UNSUPPORTED
# without).
import ctypes
import shutil
cuda_home = os.environ.get("CUDA_HOME", "")
if shutil.which("nvcc") or (cuda_home and os.access(
        os.path.join(cuda_home, "bin", "nvcc"), os.X_OK)):
    config.available_features.add("nvcc")
try:
    libcuda = ctypes.CDLL("libcuda.so.1")
    count = ctypes.c_int(0)
    if libcuda.cuInit(0) == 0 and libcuda.cuDeviceGetCount(
            ctypes.byref(count)) == 0 and count.value > 0:
        config.available_features.add("cuda-gpu")
except OSError:
    pass
# A stand-in libcuda.so.1 that runs launches on the SIMT emulator.
config.substitutions.append(
    ("%fake_cuda_dir", os.path.join(config.kiln_obj_root, "fake-cuda")))
if "CUDA_HOME" in os.environ:
    config.environment["CUDA_HOME"] = os.environ["CUDA_HOME"]

# The host's vector extensions, for tests that run code built for them.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo
                      if line.startswith("flags")), [])
except OSError:
    flags = []
if "avx2" in flags and "fma" in flags:
    config.available_features.add("x86_64-avx2")
if "avx512f" in flags and "avx512bw" in flags and "avx512vl" in flags and \
        "avx512dq" in flags:
    config.available_features.add("x86_64-avx512")
    if "avx512_bf16" in flags:
        config.available_features.add("x86_64-avx512bf16")
    if "avx512_vnni" in flags:
        config.available_features.add("x86_64-avx512vnni")
    if "amx_tile" in flags and "amx_bf16" in flags:
        config.available_features.add("x86_64-amx-bf16")
