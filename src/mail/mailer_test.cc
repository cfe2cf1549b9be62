#include "mail/mailer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

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

// A mail server that holds every delivery until the test opens the gate.
class GatedMailer final : public Mailer {
 public:
  Status Send(const Message& m) override {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return open; });
    sent.push_back(m.to);
    return Status::Ok();
  }
  void Open() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::vector<std::string> sent;
};

// Lets the test keep the server after the background mailer (which owns what it wraps) is gone.
class Forward final : public Mailer {
 public:
  explicit Forward(Mailer& to) : to_(to) {}
  Status Send(const Message& m) override { return to_.Send(m); }

 private:
  Mailer& to_;
};

TEST(MailerTest, BackgroundSendingNeverWaitsForTheServerAndDeliversEverythingInOrder) {
  GatedMailer gate;
  GatedMailer* server = &gate;
  auto mailer = MakeBackgroundMailer(std::make_unique<Forward>(gate), 3);
  // The server accepts nothing yet: these return at once (a blocking Send would hang this test).
  ASSERT_TRUE(mailer->Send({"a@example.com", "s", "1"}).ok());
  ASSERT_TRUE(mailer->Send({"b@example.com", "s", "2"}).ok());
  ASSERT_TRUE(mailer->Send({"c@example.com", "s", "3"}).ok());
  // One is being delivered (held at the gate) and two wait, or three wait: either way a fifth is
  // refused.
  Status fourth = mailer->Send({"d@example.com", "s", "4"});
  Status fifth = mailer->Send({"e@example.com", "s", "5"});
  EXPECT_FALSE(fifth.ok());
  EXPECT_EQ(fifth.error_code(), "mail_queue_full");
  EXPECT_FALSE(mailer->Send({"bad", "s", "x"}).ok())
      << "bad headers are refused at once, not queued";
  server->Open();
  mailer.reset();  // delivers what is queued, then stops
  std::vector<std::string> expected = {"a@example.com", "b@example.com", "c@example.com"};
  if (fourth.ok()) expected.push_back("d@example.com");
  EXPECT_EQ(server->sent, expected);
}

}  // namespace
}  // namespace gh::mail
