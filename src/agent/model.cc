#include "agent/model.h"

namespace gh::agent {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
  }
  return "user";
}

int64_t EstimateTokens(std::string_view text) {
  return text.empty() ? 0 : static_cast<int64_t>((text.size() + 3) / 4);
}

}  // namespace gh::agent
