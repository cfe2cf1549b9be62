#include "chat/system_prompt.h"

#include <gtest/gtest.h>

namespace gh::chat {
namespace {

PromptValues Acme() {
  return {"Acme Corp", "t-1", "ann@acme.test", "u-9", "premium", "admin", "2026-11-22"};
}

TEST(SystemPromptTest, EveryPlaceholderIsFilledFromTheTurnsContext) {
  EXPECT_EQ(RenderPromptTemplate(
                "{tenant_name}/{tenant_id}/{user_email}/{user_id}/{tier}/{role}/{date}", Acme()),
            "Acme Corp/t-1/ann@acme.test/u-9/premium/admin/2026-11-22");
}

TEST(SystemPromptTest, ValuesAreInsertedAsIsAndNeverExpandedAgain) {
  PromptValues v = Acme();
  v.tenant_name = "{user_email}";
  EXPECT_EQ(RenderPromptTemplate("Hi {tenant_name}", v), "Hi {user_email}");
}

TEST(SystemPromptTest, UnknownPlaceholdersAndUnclosedBracesAreRefusedWhenSaved) {
  EXPECT_TRUE(ValidatePromptTemplate("You serve {tenant_name} on {date}.").ok());
  EXPECT_TRUE(ValidatePromptTemplate("no placeholders } at all").ok());
  Status unknown = ValidatePromptTemplate("Hello {password}");
  EXPECT_EQ(unknown.error_code(), "invalid_prompt_template");
  EXPECT_NE(unknown.message().find("{password}"), std::string::npos);
  EXPECT_EQ(ValidatePromptTemplate("Hello {tenant_name").error_code(), "invalid_prompt_template");
  EXPECT_EQ(ValidatePromptTemplate(std::string(kMaxPromptTemplateBytes + 1, 'x')).error_code(),
            "invalid_prompt_template");
}

}  // namespace
}  // namespace gh::chat
