//===- Status.h - kiln_status_t inside the runtime --------------*- C++ -*-===//

#ifndef KILN_RUNTIME_STATUS_H
#define KILN_RUNTIME_STATUS_H

#include "kiln/runtime.h"

#include <string>

struct kiln_status_s {
  kiln_status_code_t code;
  std::string message;
};

namespace kiln::runtime {

/// A failed status with `message`; OK (null) for KILN_STATUS_OK.
kiln_status_t makeStatus(kiln_status_code_t code, std::string message);

} // namespace kiln::runtime

/// Returns from the enclosing function if `expr` fails.
#define KILN_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    if (kiln_status_t status_ = (expr))                                        \
      return status_;                                                          \
  } while (false)

#endif // KILN_RUNTIME_STATUS_H
