// The PostgreSQL change listener beyond the shared storage suite (storage_test.cc): it stops at
// once while a server keeps it waiting, gives up a connect after connect_timeout, and proves its
// channel with a probe that it must hear back.
#include "storage/postgres_change_listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "storage/testing/postgres_server.h"

namespace gh::storage {
namespace {

// A TCP server on 127.0.0.1 (port 0) that accepts connections and never says a word: a server
// that hangs, or a network that swallows its answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 8) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() {
    for (int fd : accepted_) ::close(fd);
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

  // Waits for the next client and returns its socket (closed with the server).
  int Accept() {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) accepted_.push_back(fd);
    return fd;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> accepted_;
};

// Reads what the client sends (its first request) until it closes the connection.
bool ClosedByTheClient(int fd) {
  char buf[512];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

std::shared_ptr<const PgConnectParams> Params(std::string url, int connect_timeout_seconds = 5) {
  PostgresOptions o;
  o.url = std::move(url);
  o.connect_timeout_seconds = connect_timeout_seconds;
  return std::make_shared<const PgConnectParams>(o);
}

class Heard {
 public:
  void Add(const Announcement& a) {
    std::lock_guard lock(mu_);
    all_.push_back(a);
  }
  std::vector<Announcement> All() {
    std::lock_guard lock(mu_);
    return all_;
  }
  size_t Count(const std::string& topic, const std::string& key) {
    std::lock_guard lock(mu_);
    return static_cast<size_t>(std::count_if(all_.begin(), all_.end(), [&](const Announcement& a) {
      return a.topic == topic && a.key == key;
    }));
  }

 private:
  std::mutex mu_;
  std::vector<Announcement> all_;
};

// Polls `done` for up to 30 s (a bound, not an expectation of speed).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(PgChangeListenerTest, StoppingDoesNotWaitForAServerThatNeverAnswersTheConnect) {
  SilentServer server;
  ASSERT_NE(server.port(), 0);
  std::atomic<int> heard{0};
  auto listener = std::make_unique<PgChangeListener>(
      Params(fmt::format("postgresql://gatehouse@127.0.0.1:{}/gatehouse", server.port()),
             /*connect_timeout_seconds=*/24 * 3600),
      [&](const Announcement&) { ++heard; });
  const int client = server.Accept();
  ASSERT_GE(client, 0);
  // The listener now waits for the server's first word, which never comes. A blocking connect
  // would keep the destructor for the whole connect_timeout (the test would time out).
  listener.reset();
  EXPECT_EQ(heard.load(), 0);
  EXPECT_TRUE(ClosedByTheClient(client)) << "the connection being opened is closed";
}

TEST(PgChangeListenerTest, AConnectThatOutlastsTheUrlsConnectTimeoutIsGivenUpAndTriedAgain) {
  SilentServer server;
  ASSERT_NE(server.port(), 0);
  // The URL's connect_timeout (1 s, which libpq reads as its minimum, 2 s) overrides the option's.
  PgChangeListener listener(
      Params(fmt::format("postgresql://gatehouse@127.0.0.1:{}/gatehouse?connect_timeout=1",
                         server.port()),
             /*connect_timeout_seconds=*/24 * 3600),
      [](const Announcement&) {});
  const int first = server.Accept();
  ASSERT_GE(first, 0);
  EXPECT_TRUE(ClosedByTheClient(first)) << "given up";
  EXPECT_GE(server.Accept(), 0) << "and tried again";
  EXPECT_EQ(listener.probe(), PgChangeListener::Probe::kPending);
}

class PgChangeListenerProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scratch = testing::PostgresTestDatabase::Create();
    ASSERT_TRUE(scratch.ok()) << scratch.status().message();
    scratch_.emplace(std::move(scratch).value());
    PostgresOptions o;
    o.url = scratch_->url();
    o.pool_size = 1;
    auto db = OpenPostgres(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    scratch_.reset();
  }

  std::optional<testing::PostgresTestDatabase> scratch_;
  std::unique_ptr<Database> db_;
};

TEST_F(PgChangeListenerProbeTest, AListenerHearsItsOwnProbeAndHandsOnNoProbe) {
  Heard here, there;
  // A probe timeout that never passes: verified only by hearing the probe.
  const PgChangeListenerOptions options{.probe_timeout = std::chrono::hours(1)};
  PgChangeListener listening_here(
      Params(scratch_->url()), [&](const Announcement& a) { here.Add(a); }, options);
  PgChangeListener listening_there(
      Params(scratch_->url()), [&](const Announcement& a) { there.Add(a); }, options);
  ASSERT_TRUE(Eventually([&] { return listening_here.verified(); }));
  ASSERT_TRUE(Eventually([&] { return listening_there.verified(); }));
  // Each has heard the other's probe too, before this (notifications arrive in commit order).
  ASSERT_TRUE(db_->Announce({"user", "acme\tu-1"}).ok());
  ASSERT_TRUE(Eventually([&] { return here.Count("user", "acme\tu-1") == 1; }));
  ASSERT_TRUE(Eventually([&] { return there.Count("user", "acme\tu-1") == 1; }));
  for (Heard* heard : {&here, &there}) {
    const std::vector<Announcement> all = heard->All();
    ASSERT_EQ(all.size(), 2u) << "no probe is handed on";
    EXPECT_EQ(all[0].topic, "");
    EXPECT_EQ(all[0].key, "") << "forget everything, once listening";
  }
}

TEST_F(PgChangeListenerProbeTest, AProbeNeverHeardBackIsReportedAndListeningGoesOn) {
  Heard heard;
  // The probe goes to another channel, as notifications do behind a pooler in transaction mode:
  // it is never heard back.
  PgChangeListener listener(
      Params(scratch_->url()), [&](const Announcement& a) { heard.Add(a); },
      {.probe_timeout = std::chrono::milliseconds(50), .probe_channel = "gatehouse_elsewhere"});
  ASSERT_TRUE(Eventually([&] { return listener.probe() == PgChangeListener::Probe::kNotHeard; }));
  EXPECT_FALSE(listener.verified());
  EXPECT_EQ(heard.Count("", ""), 1u);
  ASSERT_TRUE(db_->Announce({"api_keys", "k1"}).ok());
  EXPECT_TRUE(Eventually([&] { return heard.Count("api_keys", "k1") == 1; }))
      << "what is heard is still handed on";
}

// The probe waits no longer than the probe's time: a probe whose connection never gets an answer
// (a pooler with no server connection free, a server that hangs, connect_timeout 0) does not keep
// the listener from handing on what it hears.
TEST_F(PgChangeListenerProbeTest, AProbeThatGetsNoAnswerDoesNotStallListening) {
  SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  Heard heard;
  PgChangeListener listener(
      Params(scratch_->url()), [&](const Announcement& a) { heard.Add(a); },
      {.probe_timeout = std::chrono::milliseconds(100),
       .probe_params =
           Params(fmt::format("postgresql://gatehouse@127.0.0.1:{}/gatehouse", silent.port()),
                  /*connect_timeout_seconds=*/0)});
  ASSERT_TRUE(Eventually([&] { return heard.Count("", "") == 1; })) << "listening";
  ASSERT_TRUE(db_->Announce({"api_keys", "k2"}).ok());
  EXPECT_TRUE(Eventually([&] { return heard.Count("api_keys", "k2") == 1; }))
      << "handed on, the probe given up";
  EXPECT_FALSE(listener.verified());
}

}  // namespace
}  // namespace gh::storage
