// RUN: kiln-opt %s -verify-diagnostics -kiln-cpu-pack-entry-point

// expected-error@below {{no @_mlir_ciface_kiln_model to wrap; run kiln-cpu-prepare-entry-point before the lowering to LLVM}}
module {
  llvm.func @kiln_model_without_interface()
}
