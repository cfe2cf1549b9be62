#include "chat/system_prompt.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace gh::chat {

namespace {

const std::string* ValueOf(std::string_view name, const PromptValues& v) {
  if (name == "tenant_name") return &v.tenant_name;
  if (name == "tenant_id") return &v.tenant_id;
  if (name == "user_email") return &v.user_email;
  if (name == "user_id") return &v.user_id;
  if (name == "tier") return &v.tier;
  if (name == "role") return &v.role;
  if (name == "date") return &v.date;
  return nullptr;
}

Status Invalid(std::string message) {
  return Status::Unprocessable(std::move(message), "invalid_prompt_template");
}

}  // namespace

Status ValidatePromptTemplate(std::string_view tmpl) {
  if (tmpl.size() > kMaxPromptTemplateBytes)
    return Invalid(fmt::format("the template is longer than {} bytes", kMaxPromptTemplateBytes));
  static const PromptValues kNames;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{') continue;
    size_t close = tmpl.find('}', i);
    if (close == std::string_view::npos)
      return Invalid("a '{' is never closed; placeholders are written {name}");
    std::string_view name = tmpl.substr(i + 1, close - i - 1);
    if (!ValueOf(name, kNames))
      return Invalid(fmt::format(
          "unknown placeholder {{{}}}; use tenant_name, tenant_id, user_email, user_id, tier, "
          "role or date",
          Printable(name, 40)));
    i = close;
  }
  return Status::Ok();
}

std::string RenderPromptTemplate(std::string_view tmpl, const PromptValues& values) {
  std::string out;
  out.reserve(tmpl.size() + 64);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        if (const std::string* v = ValueOf(tmpl.substr(i + 1, close - i - 1), values)) {
          out += *v;
          i = close;
          continue;
        }
      }
    }
    out.push_back(tmpl[i]);
  }
  return out;
}

std::string DefaultSystemPrompt(const PromptValues& v) {
  return fmt::format(
      "You are the assistant of {} ({}), served by Gatehouse. The user is {} ({}) on the {} plan. "
      "Use "
      "the tools you are given when they help; say so when you cannot help.",
      v.tenant_name, v.tenant_id, v.user_email, v.role, v.tier);
}

}  // namespace gh::chat
