#include "authz/model_error.h"

namespace gh::authz {

std::string ModelError::ToString() const {
  std::string kind = syntax ? "syntax" : (error_type.empty() ? "validation" : error_type);
  std::string out = kind + " error";
  if (!file.empty()) out += " in " + file;
  if (line >= 0) {
    out += " at line=" + std::to_string(line) + ", column=" + std::to_string(col_start);
  }
  return out + ": " + message;
}

Status ModelErrorsToStatus(const std::vector<ModelError>& errors) {
  if (errors.empty()) return Status::Ok();
  std::string msg =
      std::to_string(errors.size()) + " error" + (errors.size() == 1 ? "" : "s") + " occurred:";
  for (const auto& e : errors) msg += "\n\t* " + e.ToString();
  return Status::InvalidArgument(msg, "validation_error");
}

}  // namespace gh::authz
