// The load client of the gateway benchmark (bench/gateway/run.sh): POSTs one chat completion body
// to one or more targets (the mock upstream directly, nginx in front of it, Gatehouse in front of
// it) over keep-alive HTTP/1.1 connections and prints what it measured as `RESULT key=value ...`
// lines.
//
//   gateway_load seq --requests N [--warmup N] [--stream] --body FILE --target NAME URL AUTH ...
//     One connection per target; the targets take turns, one request at a time, so each sees the
//     same machine load. Latency per request (p50, p90, p99); with --stream also the time to the
//     first content token, the gaps between tokens and the whole stream.
//   gateway_load rate --rps R --seconds S --body FILE --target NAME URL AUTH
//     Open loop at a fixed rate (requests are sent on schedule whether or not earlier ones
//     finished, on as many connections as needed); latency is measured from the scheduled send
//     time.
//   gateway_load streams --concurrency C --seconds S --ideal-ms I --gap-ms G --body FILE --target
//   ...
//     C concurrent streaming clients, each on its own connection, one stream after another; starts
//     are spread evenly over one ideal stream duration. A stream is on time when it ends (after
//     [DONE]) within 110% of the ideal duration I. Also: time to first token, gaps between tokens
//     (G is the mock's gap), and how many tokens arrived bunched (gap under G/4: buffered
//     somewhere).
//
// AUTH is the Authorization header value, or "-" for none. Single-threaded (one io_context).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

double Us(SteadyClock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Target {
  std::string name, host, port, path, auth;
  std::string request;  // the whole request, serialized once
};

struct Sample {
  bool ok = false;
  std::string error;
  TimePoint start, done;
  std::vector<TimePoint> tokens;  // arrival of each content frame (streams)
};

struct Conn {
  explicit Conn(net::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

std::string g_body;
bool g_stream = false;
std::string g_first_error;

bool ParseUrl(const std::string& url, Target& t) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return false;
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  t.host = hostport.substr(0, colon);
  t.port = hostport.substr(colon + 1);
  return true;
}

void BuildRequest(Target& t) {
  std::string r = "POST " + t.path + " HTTP/1.1\r\nHost: " + t.host + ":" + t.port +
                  "\r\nContent-Type: application/json\r\n";
  if (g_stream) r += "Accept: text/event-stream\r\n";
  if (t.auth != "-") r += "Authorization: " + t.auth + "\r\n";
  r += "Content-Length: " + std::to_string(g_body.size()) + "\r\n\r\n" + g_body;
  t.request = std::move(r);
}

net::awaitable<bool> Connect(Conn& c, const Target& t) {
  tcp::endpoint ep(net::ip::make_address(t.host), static_cast<unsigned short>(std::stoi(t.port)));
  auto [ec] = co_await c.stream.async_connect(ep, kTuple);
  if (ec) {
    if (g_first_error.empty()) g_first_error = "connect " + t.name + ": " + ec.message();
    co_return false;
  }
  c.stream.socket().set_option(tcp::no_delay(true));
  co_return true;
}

// A content frame carries `"content":"` followed by at least one character of text.
bool IsContentFrame(std::string_view frame) {
  const std::string_view marker = R"("content":")";
  size_t at = frame.find(marker);
  return at != std::string_view::npos && at + marker.size() < frame.size() &&
         frame[at + marker.size()] != '"';
}

// One request on `c`; the connection stays usable when the sample is ok.
net::awaitable<Sample> Exchange(Conn& c, const Target& t) {
  Sample s;
  s.start = SteadyClock::now();
  auto fail = [&](std::string what) {
    s.ok = false;
    s.error = t.name + ": " + what;
    if (g_first_error.empty()) g_first_error = s.error;
    return s;
  };
  auto [wec, wn] = co_await net::async_write(c.stream, net::buffer(t.request), kTuple);
  if (wec) co_return fail("write: " + wec.message());
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await bhttp::async_read_header(c.stream, c.buffer, parser, kTuple);
  if (hec) co_return fail("read header: " + hec.message());
  const int status = parser.get().result_int();
  std::string pending, body_head;
  bool saw_done = false;
  char buf[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    auto [rec, rn] = co_await bhttp::async_read_some(c.stream, c.buffer, parser, kTuple);
    if (rec && rec != bhttp::error::need_buffer) co_return fail("read body: " + rec.message());
    const size_t got = sizeof buf - parser.get().body().size;
    if (got == 0) continue;
    const auto now = SteadyClock::now();
    if (body_head.size() < 512) body_head.append(buf, std::min<size_t>(got, 512));
    if (!g_stream) continue;
    pending.append(buf, got);
    size_t from = 0;
    for (;;) {
      size_t end = pending.find("\n\n", from);
      if (end == std::string::npos) break;
      std::string_view frame(pending.data() + from, end - from);
      if (IsContentFrame(frame)) s.tokens.push_back(now);
      if (frame.find("data: [DONE]") != std::string_view::npos) saw_done = true;
      from = end + 2;
    }
    pending.erase(0, from);
  }
  s.done = SteadyClock::now();
  if (status != 200)
    co_return fail("status " + std::to_string(status) + ": " + body_head.substr(0, 300));
  if (g_stream && (!saw_done || s.tokens.empty()))
    co_return fail("stream without tokens or [DONE]: " + body_head.substr(0, 300));
  if (!g_stream && body_head.find("\"choices\"") == std::string::npos)
    co_return fail("no choices: " + body_head.substr(0, 300));
  if (!parser.get().keep_alive()) co_return fail("server closed the connection");
  s.ok = true;
  co_return s;
}

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// Token timing of a set of streams.
struct StreamStats {
  std::vector<double> ttft_us, gap_us, total_us;
  size_t bunched = 0;
  void Add(const Sample& s, double gap_ms) {
    ttft_us.push_back(Us(s.tokens.front() - s.start));
    total_us.push_back(Us(s.done - s.start));
    for (size_t i = 1; i < s.tokens.size(); ++i) {
      double g = Us(s.tokens[i] - s.tokens[i - 1]);
      gap_us.push_back(g);
      if (gap_ms > 0 && g < gap_ms * 1000.0 / 4) ++bunched;
    }
  }
  std::string Format() {
    char line[512];
    std::snprintf(line, sizeof line,
                  "ttft_p50_us=%.0f ttft_p99_us=%.0f gap_p50_us=%.0f gap_p99_us=%.0f "
                  "gap_max_us=%.0f bunched=%zu "
                  "gaps=%zu total_p50_us=%.0f total_p99_us=%.0f",
                  Pct(ttft_us, 0.5), Pct(ttft_us, 0.99), Pct(gap_us, 0.5), Pct(gap_us, 0.99),
                  Pct(gap_us, 1.0), bunched, gap_us.size(), Pct(total_us, 0.5),
                  Pct(total_us, 0.99));
    return line;
  }
};

net::awaitable<void> Sequential(net::io_context& io, std::vector<Target>& targets, int warmup,
                                int requests, double gap_ms) {
  std::vector<std::unique_ptr<Conn>> conns;
  for (auto& t : targets) {
    conns.push_back(std::make_unique<Conn>(io));
    bool connected = co_await Connect(*conns.back(), t);
    if (!connected) co_return;
  }
  std::vector<std::vector<double>> lat(targets.size());
  std::vector<StreamStats> streams(targets.size());
  std::vector<int> errors(targets.size());
  for (int i = 0; i < warmup + requests; ++i) {
    for (size_t k = 0; k < targets.size(); ++k) {
      Sample s = co_await Exchange(*conns[k], targets[k]);
      if (!s.ok) {
        ++errors[k];
        conns[k] = std::make_unique<Conn>(io);
        bool connected = co_await Connect(*conns[k], targets[k]);
        if (!connected) co_return;
        continue;
      }
      if (i < warmup) continue;
      lat[k].push_back(Us(s.done - s.start));
      if (g_stream) streams[k].Add(s, gap_ms);
    }
  }
  for (size_t k = 0; k < targets.size(); ++k) {
    std::printf(
        "RESULT mode=seq target=%s n=%zu errors=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f "
        "mean_us=%.0f %s\n",
        targets[k].name.c_str(), lat[k].size(), errors[k], Pct(lat[k], 0.5), Pct(lat[k], 0.9),
        Pct(lat[k], 0.99), Mean(lat[k]), g_stream ? streams[k].Format().c_str() : "");
  }
}

struct RateRun {
  net::io_context& io;
  const Target& target;
  std::vector<std::unique_ptr<Conn>> idle;
  std::vector<double> lat;
  int errors = 0, in_flight = 0, opened = 0;
};

net::awaitable<void> OneScheduled(RateRun& run, std::unique_ptr<Conn> conn, TimePoint due,
                                  bool fresh) {
  ++run.in_flight;
  bool usable = true;
  if (fresh) usable = co_await Connect(*conn, run.target);
  if (usable) {
    Sample s = co_await Exchange(*conn, run.target);
    usable = s.ok;
    if (s.ok) run.lat.push_back(Us(s.done - due));
  }
  if (usable)
    run.idle.push_back(std::move(conn));
  else
    ++run.errors;
  --run.in_flight;
}

net::awaitable<void> Rate(net::io_context& io, Target& target, double rps, double seconds) {
  RateRun run{io, target, {}, {}};
  for (int i = 0; i < 16; ++i) {
    auto c = std::make_unique<Conn>(io);
    bool connected = co_await Connect(*c, target);
    if (!connected) co_return;
    run.idle.push_back(std::move(c));
    ++run.opened;
  }
  net::steady_timer timer(io);
  const auto start = SteadyClock::now() + std::chrono::milliseconds(50);
  const auto total = static_cast<int64_t>(rps * seconds);
  const auto period = std::chrono::duration<double>(1.0 / rps);
  for (int64_t i = 0; i < total; ++i) {
    auto due =
        start + std::chrono::duration_cast<SteadyClock::duration>(period * static_cast<double>(i));
    timer.expires_at(due);
    co_await timer.async_wait(kTuple);
    std::unique_ptr<Conn> c;
    bool fresh = run.idle.empty();
    if (fresh) {
      c = std::make_unique<Conn>(io);
      ++run.opened;
    } else {
      c = std::move(run.idle.back());
      run.idle.pop_back();
    }
    net::co_spawn(io, OneScheduled(run, std::move(c), due, fresh), net::detached);
  }
  while (run.in_flight > 0) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(kTuple);
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf(
      "RESULT mode=rate target=%s rps_asked=%.0f rps_done=%.0f n=%zu errors=%d connections=%d "
      "p50_us=%.0f "
      "p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f\n",
      target.name.c_str(), rps, static_cast<double>(run.lat.size()) / elapsed, run.lat.size(),
      run.errors, run.opened, Pct(run.lat, 0.5), Pct(run.lat, 0.9), Pct(run.lat, 0.99),
      Pct(run.lat, 0.999), Pct(run.lat, 1.0));
}

struct StreamsRun {
  StreamStats stats;
  size_t on_time = 0, done = 0;
  int errors = 0, running = 0;
};

net::awaitable<void> StreamWorker(net::io_context& io, const Target& t, StreamsRun& run,
                                  TimePoint first, TimePoint deadline, double ideal_ms,
                                  double gap_ms) {
  ++run.running;
  auto conn = std::make_unique<Conn>(io);
  bool connected = co_await Connect(*conn, t);
  net::steady_timer timer(io);
  timer.expires_at(first);
  co_await timer.async_wait(kTuple);
  while (connected && SteadyClock::now() < deadline) {
    Sample s = co_await Exchange(*conn, t);
    if (!s.ok) {
      ++run.errors;
      conn = std::make_unique<Conn>(io);
      connected = co_await Connect(*conn, t);
      continue;
    }
    ++run.done;
    if (Us(s.done - s.start) <= ideal_ms * 1000.0 * 1.10) ++run.on_time;
    run.stats.Add(s, gap_ms);
  }
  --run.running;
}

net::awaitable<void> Streams(net::io_context& io, Target& t, int concurrency, double seconds,
                             double ideal_ms, double gap_ms) {
  StreamsRun run;
  const auto start = SteadyClock::now() + std::chrono::milliseconds(200);
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(seconds));
  for (int k = 0; k < concurrency; ++k) {
    auto first = start + std::chrono::duration_cast<SteadyClock::duration>(
                             std::chrono::duration<double, std::milli>(ideal_ms * k / concurrency));
    net::co_spawn(io, StreamWorker(io, t, run, first, deadline, ideal_ms, gap_ms), net::detached);
  }
  net::steady_timer timer(io);
  do {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
  } while (run.running > 0);
  std::printf(
      "RESULT mode=streams target=%s concurrency=%d streams=%zu errors=%d on_time=%zu "
      "on_time_pct=%.2f %s\n",
      t.name.c_str(), concurrency, run.done, run.errors, run.on_time,
      run.done ? 100.0 * static_cast<double>(run.on_time) / static_cast<double>(run.done) : 0.0,
      run.stats.Format().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: gateway_load seq|rate|streams [options] --body FILE --target NAME URL AUTH ...\n");
    return 2;
  }
  const std::string mode = argv[1];
  int requests = 1000, warmup = 100, concurrency = 10;
  double rps = 1000, seconds = 10, ideal_ms = 1000, gap_ms = 0;
  std::vector<Target> targets;
  for (int i = 2; i < argc; ++i) {
    std::string_view k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--stream")
      g_stream = true;
    else if (k == "--requests")
      requests = std::stoi(next());
    else if (k == "--warmup")
      warmup = std::stoi(next());
    else if (k == "--concurrency")
      concurrency = std::stoi(next());
    else if (k == "--rps")
      rps = std::stod(next());
    else if (k == "--seconds")
      seconds = std::stod(next());
    else if (k == "--ideal-ms")
      ideal_ms = std::stod(next());
    else if (k == "--gap-ms")
      gap_ms = std::stod(next());
    else if (k == "--body") {
      std::ifstream in(next());
      std::stringstream ss;
      ss << in.rdbuf();
      g_body = ss.str();
    } else if (k == "--target") {
      Target t;
      t.name = next();
      std::string url = next();
      t.auth = next();
      if (!ParseUrl(url, t)) {
        std::fprintf(stderr, "bad URL %s (http://HOST:PORT/path)\n", url.c_str());
        return 2;
      }
      targets.push_back(std::move(t));
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (targets.empty() || g_body.empty()) {
    std::fprintf(stderr, "--body and at least one --target are required\n");
    return 2;
  }
  // Streams are detected from the body, so the client and the servers agree.
  if (g_body.find("\"stream\":true") != std::string::npos) g_stream = true;
  for (auto& t : targets) BuildRequest(t);

  net::io_context io(1);
  if (mode == "seq")
    net::co_spawn(io, Sequential(io, targets, warmup, requests, gap_ms), net::detached);
  else if (mode == "rate")
    net::co_spawn(io, Rate(io, targets[0], rps, seconds), net::detached);
  else if (mode == "streams")
    net::co_spawn(io, Streams(io, targets[0], concurrency, seconds, ideal_ms, gap_ms),
                  net::detached);
  else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  io.run();
  if (!g_first_error.empty()) std::fprintf(stderr, "first error: %s\n", g_first_error.c_str());
  return 0;
}
