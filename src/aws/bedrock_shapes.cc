#include "aws/bedrock_shapes.h"

#include <algorithm>

namespace gh::aws::bedrock {

static_assert(kStopReasons.size() ==
                  static_cast<size_t>(StopReason::kModelContextWindowExceeded) + 1,
              "one name per StopReason");

std::optional<StopReason> ParseStopReason(std::string_view wire) {
  for (size_t i = 0; i < kStopReasons.size(); ++i) {
    if (kStopReasons[i] == wire) return static_cast<StopReason>(i);
  }
  return std::nullopt;
}

std::string_view StopReasonName(StopReason reason) {
  return kStopReasons[static_cast<size_t>(reason)];
}

bool IsConverseStreamException(std::string_view exception_type) {
  return std::find(kConverseStreamExceptions.begin(), kConverseStreamExceptions.end(),
                   exception_type) != kConverseStreamExceptions.end();
}

std::optional<int> ConverseErrorHttpStatus(std::string_view shape) {
  for (const OperationError& e : kConverseErrors) {
    if (e.shape == shape) return e.http_status;
  }
  return std::nullopt;
}

}  // namespace gh::aws::bedrock
