#include "mail/mailer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gh::mail {
namespace {

TEST(MailerTest, OutboxWritesOneRfc5322FilePerMessageInSendOrder) {
  auto dir = std::filesystem::temp_directory_path() / ("gh-outbox-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  FakeClock clock;
  SeededRandom rng(3);
  auto mailer = MakeOutboxMailer(dir, "noreply@gatehouse.local", clock, rng);
  ASSERT_TRUE(mailer->Send({"a@example.com", "Code", "Your code is 123456\nBye"}).ok());
  ASSERT_TRUE(mailer->Send({"b@example.com", "Code", "second"}).ok());
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 2u);
  std::ifstream in(files[0]);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_NE(text.find("To: a@example.com\r\n"), std::string::npos);
  EXPECT_NE(text.find("Subject: Code\r\n"), std::string::npos);
  EXPECT_NE(text.find("Date: "), std::string::npos);
  EXPECT_NE(text.find("\r\n\r\nYour code is 123456\r\nBye"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(MailerTest, HeaderInjectionIsRefused) {
  FakeClock clock;
  SeededRandom rng(3);
  auto mailer = MakeOutboxMailer("/tmp/gh-never", "x@y", clock, rng);
  EXPECT_FALSE(mailer->Send({"a@example.com\r\nBcc: evil@example.com", "s", "t"}).ok());
  EXPECT_FALSE(mailer->Send({"a@example.com", "s\nX: y", "t"}).ok());
}

}  // namespace
}  // namespace gh::mail
