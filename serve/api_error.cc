// OpenAI-style error objects (serve/api_error.h).
#include "serve/api_error.h"

namespace lockstep::serve {

nlohmann::json ApiError::ToJson() const {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  return {{"error",
           {{"message", message}, {"type", type}, {"param", or_null(param)}, {"code", or_null(code)}}}};
}

ApiError BadRequest(const std::string& message, const std::string& param, const std::string& code) {
  return ApiError{400, message, "invalid_request_error", param, code};
}

}  // namespace lockstep::serve
