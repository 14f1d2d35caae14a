//===- Status.cpp - kiln_status_t -----------------------------------------===//

#include "runtime/src/Status.h"

#include <new>

kiln_status_t kiln::runtime::makeStatus(kiln_status_code_t code,
                                        std::string message) {
  if (code == KILN_STATUS_OK)
    return nullptr;
  return new (std::nothrow) kiln_status_s{code, std::move(message)};
}

extern "C" kiln_status_code_t kiln_status_code(kiln_status_t status) {
  // A status that could not be allocated is still a failure.
  return status ? status->code : KILN_STATUS_OK;
}

extern "C" const char *kiln_status_message(kiln_status_t status) {
  return status ? status->message.c_str() : "";
}

extern "C" void kiln_status_free(kiln_status_t status) { delete status; }

extern "C" const char *kiln_runtime_version(void) { return KILN_VERSION; }
