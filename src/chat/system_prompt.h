// The system prompt a turn starts with: Gatehouse's built-in one, or the tenant's own template
// (set by a tenant admin, stored in tenant_settings) with the turn's tenant context filled in.
// Placeholders: {tenant_name} {tenant_id} {user_email} {user_id} {tier} {role} {date} (the UTC
// date of the turn, YYYY-MM-DD). Anything else in braces is refused when the template is saved.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gh::chat {

struct PromptValues {
  std::string tenant_name, tenant_id, user_email, user_id, tier, role, date;
};

constexpr size_t kMaxPromptTemplateBytes = 8000;

// Unprocessable "invalid_prompt_template" naming the first unknown placeholder or an unclosed
// brace; or a template longer than kMaxPromptTemplateBytes.
Status ValidatePromptTemplate(std::string_view tmpl);

// Replaces every known placeholder; a value is inserted as is (never expanded again).
std::string RenderPromptTemplate(std::string_view tmpl, const PromptValues& values);

// The built-in prompt, used when the tenant has no template.
std::string DefaultSystemPrompt(const PromptValues& values);

}  // namespace gh::chat
