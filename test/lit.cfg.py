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
# %make-model CASE OUT: one of the hand-built models of make_model.py.
config.substitutions.append(
    ("%make-model", f"{config.python_executable} {lib}/make_model.py"))

tools = [ToolSubst("kiln", unresolved="fatal"),
         ToolSubst("kiln-opt", unresolved="fatal")]
llvm_config.add_tool_substitutions(tools, [config.kiln_tools_dir])
