// OpenAI-style error replies: {"error": {"message", "type", "param", "code"}}
// with the HTTP status that goes with them. Every 4xx the server sends is one.
#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace lockstep::serve {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the request field at fault; "" -> null
  std::string code;   // e.g. "model_not_found", "context_length_exceeded"; "" -> null

  nlohmann::json ToJson() const;
};

// 400 invalid_request_error naming `param`.
ApiError BadRequest(const std::string& message, const std::string& param = "",
                    const std::string& code = "");

}  // namespace lockstep::serve
