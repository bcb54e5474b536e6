#pragma once

#include <string>

#include "llm/http_transport.h"

namespace tritonize {

/// One line for a failed request: the transport error, or the HTTP status with the API's
/// error message when the body has one (else the first 200 bytes of the body).
std::string HttpErrorLine(const HttpResponse& response);

}  // namespace tritonize
