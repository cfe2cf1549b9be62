#include "storage/postgres_change_listener.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <random>
#include <string_view>

#include "common/log.h"

namespace gh::storage {
namespace {

using Clock = std::chrono::steady_clock;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status ConnectionError(PGconn* pg, std::string_view what) {
  return Status::Unavailable(fmt::format("postgres {}: {}", what, Trimmed(PQerrorMessage(pg))),
                             "storage_unavailable");
}

// connect_timeout as libpq's blocking connect reads it — the URL's when it sets one, else
// PostgresOptions' — in seconds: 0 waits indefinitely, and 1 is 2 (libpq's minimum).
// PQconnectPoll ignores it and leaves it to the caller.
int ConnectTimeoutSeconds(PGconn* pg) {
  int seconds = 0;
  if (PQconninfoOption* options = PQconninfo(pg)) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (std::string_view(o->keyword) != "connect_timeout" || !o->val) continue;
      const std::string_view v(o->val);
      std::from_chars(v.data(), v.data() + v.size(), seconds);
    }
    PQconninfoFree(options);
  }
  return seconds <= 0 ? 0 : std::max(seconds, 2);
}

// Unique among the probes of every replica on the server (a probe is told apart from another
// listener's by its key only).
std::string NewProbeKey() {
  std::random_device entropy;
  return fmt::format("probe-{:08x}{:08x}", entropy(), entropy());
}

}  // namespace

void PgChangeListener::Finish::operator()(PGconn* pg) const { PQfinish(pg); }

PgChangeListener::PgChangeListener(std::shared_ptr<const PgConnectParams> params,
                                   std::function<void(const Announcement&)> heard,
                                   PgChangeListenerOptions options)
    : params_(std::move(params)), heard_(std::move(heard)), options_(std::move(options)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Run(); });
}

PgChangeListener::~PgChangeListener() {
  stopping_ = true;
  if (wake_[1] >= 0) {
    const char c = 1;
    (void)!::write(wake_[1], &c, 1);
  }
  thread_.join();
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

void PgChangeListener::Run() {
  const std::string listen = fmt::format("LISTEN {}", kChangesChannel);
  int backoff_ms = 100;
  bool failing = false;  // warned of once per outage
  while (!stopping_) {
    Result<Connection> conn = Connect();
    const Status listening = conn.ok() ? Command(conn->get(), listen.c_str()) : conn.status();
    if (stopping_) return;
    if (listening.ok()) {
      if (failing) log::Info("listening for the other replicas' changes again");
      failing = false;
      backoff_ms = 100;
      Hand(Announcement{});
      Pump(conn->get());
      probe_ = Probe::kPending;
      if (stopping_) return;
      log::Warn("lost the connection that hears the other replicas' changes; reconnecting");
    } else if (!failing) {
      failing = true;
      log::Warn(
          "cannot listen for the other replicas' changes: they reach this one's caches only "
          "within their TTL until it can",
          {{"error", listening.message()}});
    }
    if (conn.ok()) conn->reset();  // closed before the wait, not after
    if (!Wait(backoff_ms)) return;
    backoff_ms = std::min(backoff_ms * 2, 5000);
  }
}

// PQconnectStartParams, then PQconnectPoll each time the socket is ready for what it asked
// (libpq's "Connecting asynchronously"), within connect_timeout.
Result<PgChangeListener::Connection> PgChangeListener::Connect(const Deadline* limit,
                                                               const PgConnectParams* params) {
  if (!params) params = params_.get();
  Connection conn(PQconnectStartParams(params->keys(), params->values(), /*expand_dbname=*/1));
  if (!conn) return Status::Unavailable("postgres connect: out of memory", "storage_unavailable");
  const int timeout_seconds = ConnectTimeoutSeconds(conn.get());
  Deadline deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  if (limit && (timeout_seconds <= 0 || *limit < deadline)) deadline = *limit;
  const bool bounded = timeout_seconds > 0 || limit;
  // At first, as if PQconnectPoll had last asked to write.
  PostgresPollingStatusType polled =
      PQstatus(conn.get()) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK) {
    if (polled == PGRES_POLLING_FAILED) return ConnectionError(conn.get(), "connect");
    // The socket may change between calls (another host or address is tried).
    const short events = polled == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    switch (Await(PQsocket(conn.get()), events, bounded ? &deadline : nullptr)) {
      case Ready::kSocket:
        break;
      case Ready::kTimeout:
        return Status::Unavailable(
            fmt::format("postgres connect: no answer within connect_timeout ({} s) or the "
                        "probe's time",
                        timeout_seconds),
            "storage_unavailable");
      case Ready::kStopped:
        return Status::Cancelled("the change listener is stopping");
      case Ready::kFailed:
        return Status::Unavailable("postgres connect: cannot wait for the server's socket",
                                   "storage_unavailable");
    }
    polled = PQconnectPoll(conn.get());
  }
  // NOTICEs would go to stderr. Non-blocking sends: Command waits for the socket in Await.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  if (PQsetnonblocking(conn.get(), 1) != 0) return ConnectionError(conn.get(), "connect");
  return conn;
}

// Sends one statement and takes its results, waiting in Await (stopping interrupts it).
// Notifications that arrive meanwhile are kept for Pump.
Status PgChangeListener::Command(PGconn* pg, const char* sql, const Deadline* limit,
                                 const char* param1, const char* param2) {
  const char* params[] = {param1, param2};
  const int n = param2 ? 2 : param1 ? 1 : 0;
  if (PQsendQueryParams(pg, sql, n, nullptr, params, nullptr, nullptr, 0) == 0)
    return ConnectionError(pg, sql);
  auto interrupted = [&](Ready why) {
    if (why == Ready::kTimeout)
      return Status::Unavailable(fmt::format("postgres {}: no answer in time", sql),
                                 "storage_unavailable");
    return why == Ready::kStopped ? Status::Cancelled("the change listener is stopping")
                                  : ConnectionError(pg, sql);
  };
  int unsent = 0;
  while ((unsent = PQflush(pg)) == 1) {
    // libpq: wait until the socket can be written or read; read what came (it may be what the
    // server needs us to take before it reads more), then flush again.
    if (Ready r = Await(PQsocket(pg), POLLIN | POLLOUT, limit); r != Ready::kSocket)
      return interrupted(r);
    if (PQconsumeInput(pg) == 0) return ConnectionError(pg, sql);
  }
  if (unsent < 0) return ConnectionError(pg, sql);
  Status outcome = Status::Ok();
  while (true) {
    while (PQisBusy(pg) == 0) {
      PGresult* res = PQgetResult(pg);
      if (!res) return outcome;
      const ExecStatusType st = PQresultStatus(res);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && outcome.ok())
        outcome = Status::Unavailable(
            fmt::format("postgres {}: {}", sql, Trimmed(PQresultErrorMessage(res))),
            "storage_unavailable");
      PQclear(res);
    }
    if (Ready r = Await(PQsocket(pg), POLLIN, limit); r != Ready::kSocket) return interrupted(r);
    if (PQconsumeInput(pg) == 0) return ConnectionError(pg, sql);
  }
}

// Sends the probe, then hands on notifications until the connection breaks or the listener
// stops.
void PgChangeListener::Pump(PGconn* pg) {
  probe_key_ = NewProbeKey();
  const Status sent = SendProbe();
  if (stopping_) return;
  const Deadline probe_deadline = Clock::now() + options_.probe_timeout;  // from its commit
  if (!sent.ok())
    log::Warn("cannot check that the other replicas' changes reach this one",
              {{"error", sent.message()}});
  while (!stopping_) {
    while (PGnotify* note = PQnotifies(pg)) {
      const std::string_view payload(note->extra ? note->extra : "");
      const size_t tab = payload.find('\t');
      Announcement a{
          std::string(payload.substr(0, tab)),
          tab == std::string_view::npos ? std::string() : std::string(payload.substr(tab + 1))};
      PQfreemem(note);
      // An empty topic is a probe (this listener's or another replica's): never handed on.
      if (!a.topic.empty()) {
        Hand(a);
      } else if (a.key == probe_key_) {
        ProbeHeard();
      }
    }
    const bool awaiting_probe = sent.ok() && probe_ == Probe::kPending;
    switch (Await(PQsocket(pg), POLLIN, awaiting_probe ? &probe_deadline : nullptr)) {
      case Ready::kSocket:
        if (PQconsumeInput(pg) == 0) return;  // the connection broke
        break;
      case Ready::kTimeout:
        ProbeNotHeard();
        break;
      case Ready::kStopped:
      case Ready::kFailed:
        return;
    }
  }
}

// NOTIFYs the probe through a short-lived connection of its own. Not through the listening one: a
// pooler in transaction mode would run it on the server connection that had just run LISTEN for
// us (pgbouncer reuses the last one released), which hears its own NOTIFY and hands the echo
// straight back to us — heard, while every other replica's NOTIFY is lost.
// Bounded by the probe's time: meanwhile nothing reads the listening connection (what arrives
// waits in its socket), and a pooler with no server connection free would hold the NOTIFY.
Status PgChangeListener::SendProbe() {
  const Deadline limit = Clock::now() + options_.probe_timeout;
  GH_ASSIGN_OR_RETURN(Connection conn, Connect(&limit, options_.probe_params.get()));
  const std::string payload = "\t" + probe_key_;
  return Command(conn.get(), "SELECT pg_notify($1, $2)", &limit, options_.probe_channel.c_str(),
                 payload.c_str());
}

// Hands one announcement on; a callback that throws loses it, not the listener.
void PgChangeListener::Hand(const Announcement& a) {
  try {
    heard_(a);
  } catch (const std::exception& e) {
    log::Error("a change announced by a replica could not be applied",
               {{"topic", a.topic}, {"error", e.what()}});
  }
}

void PgChangeListener::ProbeHeard() {
  probe_ = Probe::kHeard;
  if (!warned_) return;
  warned_ = false;
  log::Info("changes announced by other replicas reach this one now");
}

void PgChangeListener::ProbeNotHeard() {
  probe_ = Probe::kNotHeard;
  if (warned_) return;
  warned_ = true;
  log::Warn(
      "changes announced by other replicas are not reaching this one; is a connection pooler in "
      "transaction mode in between? caches fall back to their TTL",
      {{"probe_timeout_ms", static_cast<int64_t>(options_.probe_timeout.count())}});
}

// Waits until `fd` is ready for `events`, the deadline (none when null) passes, or the listener
// stops.
PgChangeListener::Ready PgChangeListener::Await(int fd, short events, const Deadline* deadline) {
  if (fd < 0) return Ready::kFailed;
  const bool wakeable = wake_[0] >= 0;
  while (!stopping_) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return Ready::kTimeout;
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), INT_MAX));
    }
    // Without the pipe (it could not be made), look at stopping_ now and then.
    if (!wakeable && (wait_ms < 0 || wait_ms > 200)) wait_ms = 200;
    pollfd fds[2] = {{fd, events, 0}, {wake_[0], POLLIN, 0}};
    const int n = ::poll(fds, wakeable ? 2 : 1, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Ready::kFailed;
    }
    if (wakeable && fds[1].revents != 0) return Ready::kStopped;
    if (n > 0) return Ready::kSocket;  // errors and hang-ups too: libpq finds out what happened
  }
  return Ready::kStopped;
}

// Sleeps `ms` unless stopped meanwhile (false then).
bool PgChangeListener::Wait(int ms) {
  pollfd fd{wake_[0], POLLIN, 0};
  if (wake_[0] >= 0) {
    (void)::poll(&fd, 1, ms);
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  return !stopping_;
}

}  // namespace gh::storage
