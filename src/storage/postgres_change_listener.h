// PgChangeListener: Database::Listen on PostgreSQL. LISTENs on a connection of its own, on a
// thread of its own: waits in poll() on the connection's socket and a pipe that the destructor
// writes to, and hands each notification on. Every step that waits on the server — connecting
// (PQconnectStartParams / PQconnectPoll, bounded by connect_timeout), LISTEN, the probe — waits
// in that same poll(), so destroying the listener returns promptly whatever the server does (but
// for the resolution of a host name, which libpq does with a blocking getaddrinfo). A
// connection that fails or is lost is opened again (backing off up to 5 s) and announced as
// {"", ""}: whatever was said meanwhile was missed.
//
// The probe. A connection pooler in transaction mode (pgbouncer) accepts LISTEN and then never
// delivers a notification: caches would silently fall back to their TTL. So after each LISTEN the
// listener NOTIFYs a probe ("\tprobe-<random>", an empty topic: never handed on, here or on the
// other replicas) through a second, short-lived connection, as another replica would, and expects
// to hear it back; when it has not within probe_timeout, it logs a warning (once, until a probe
// is heard again) and keeps listening.
//
// Internal to the storage module (and its tests); everything else knows it as a ChangeListener.
// Thread-safety: construct and destroy on one thread; probe() and verified() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "storage/database.h"
#include "storage/postgres_connect_params.h"

struct pg_conn;  // libpq's PGconn

namespace gh::storage {

// The channel of Database::Announce; a notification's payload is "topic\tkey".
inline constexpr char kChangesChannel[] = "gatehouse_changes";

struct PgChangeListenerOptions {
  // How long after LISTEN the listener waits to hear its own probe before it warns.
  std::chrono::milliseconds probe_timeout{5000};
  // Tests: the channel the probe is NOTIFYed on. Another one than kChangesChannel is never heard
  // back, as behind a pooler that drops notifications.
  std::string probe_channel = kChangesChannel;
  // Tests: where the probe's connection goes (null: where the listener's goes).
  std::shared_ptr<const PgConnectParams> probe_params;
};

class PgChangeListener final : public ChangeListener {
 public:
  enum class Probe {
    kPending,   // not connected, the probe of this connection is not back yet, or not sent
    kHeard,     // this connection heard its own probe: announcements reach this process
    kNotHeard,  // not within probe_timeout (warned); it may still come back
  };

  PgChangeListener(std::shared_ptr<const PgConnectParams> params,
                   std::function<void(const Announcement&)> heard,
                   PgChangeListenerOptions options = {});
  ~PgChangeListener() override;  // stops at once, whatever the thread was waiting for
  PgChangeListener(const PgChangeListener&) = delete;
  PgChangeListener& operator=(const PgChangeListener&) = delete;

  Probe probe() const { return probe_.load(); }
  // Whether the channel is proven on the present connection.
  bool verified() const { return probe() == Probe::kHeard; }

 private:
  enum class Ready { kSocket, kTimeout, kStopped, kFailed };
  using Deadline = std::chrono::steady_clock::time_point;
  struct Finish {
    void operator()(pg_conn* pg) const;
  };
  using Connection = std::unique_ptr<pg_conn, Finish>;

  void Run();
  // `limit` (none when null) bounds the whole of it, beside connect_timeout.
  Result<Connection> Connect(const Deadline* limit = nullptr,
                             const PgConnectParams* params = nullptr);
  Status Command(pg_conn* pg, const char* sql, const Deadline* limit = nullptr,
                 const char* param1 = nullptr, const char* param2 = nullptr);
  void Pump(pg_conn* pg);
  Status SendProbe();
  void Hand(const Announcement& a);
  void ProbeHeard();
  void ProbeNotHeard();
  Ready Await(int fd, short events, const Deadline* deadline);
  bool Wait(int ms);

  const std::shared_ptr<const PgConnectParams> params_;
  const std::function<void(const Announcement&)> heard_;
  const PgChangeListenerOptions options_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<Probe> probe_{Probe::kPending};
  std::string probe_key_;  // of the present connection; listener thread only
  bool warned_ = false;    // of a probe not heard, since the last one heard; listener thread only
  std::thread thread_;
};

}  // namespace gh::storage
