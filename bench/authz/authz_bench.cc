// Authorization engine benchmark: builds a store of ~1,000,000 tuples in memory and prints
// Check throughput (1 and 2 threads) and p50/p99 latency for direct, userset, tuple-to-userset
// chain, intersection and exclusion checks, ListObjects returning 1,000 objects, and memory per
// tuple (RSS growth while loading / tuple count). Deterministic (seeded).
// Usage: authz_bench [ROW]: with ROW (e.g. "direct", "listobjects"), only the rows whose name
// starts with it run (for profiling one path, e.g. under valgrind --tool=callgrind).
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "authz/model_validate.h"
#include "authz/store.h"

using namespace gh;
using namespace gh::authz;

namespace {

constexpr const char* kModel = R"(model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define parent: [folder]
    define owner: [user]
    define viewer: [user, group#member] or owner or viewer from parent
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define blocked: [user]
    define viewer: [user, group#member] or owner or viewer from parent
    define can_view: viewer but not blocked
    define can_edit: owner and viewer
)";

constexpr int kUsers = 100'000;
constexpr int kGroups = 10'000;
constexpr int kMembersPerGroup = 20;
constexpr int kFolders = 20'000;
constexpr int kDocs = 200'000;

size_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string U(int i) { return "user:u" + std::to_string(i); }
std::string G(int i) { return "group:g" + std::to_string(i); }
std::string F(int i) { return "folder:f" + std::to_string(i); }
std::string D(int i) { return "doc:d" + std::to_string(i); }
TupleKey T(std::string user, const char* rel, std::string obj) {
  return TupleKey{std::move(user), rel, std::move(obj), std::nullopt};
}

struct Stats {
  double p50_us, p99_us, single_thread_ops, two_thread_ops, cpu_ops;
  int allowed;
};

// CPU time of the calling thread: checks per CPU-second are checks per second per core, and stay
// meaningful on a shared machine where wall-clock throughput depends on what else runs.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Stats Measure(const Store& store, const std::vector<CheckRequest>& reqs) {
  std::vector<double> lat;
  lat.reserve(reqs.size());
  int allowed = 0;
  // Warm up.
  for (size_t i = 0; i < std::min<size_t>(reqs.size(), 2000); ++i) (void)store.Check(reqs[i]);
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& r : reqs) {
    auto a = std::chrono::steady_clock::now();
    auto res = store.Check(r);
    auto b = std::chrono::steady_clock::now();
    if (res.ok() && *res) ++allowed;
    lat.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }
  double single =
      reqs.size() / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Throughput without per-call timing, on 1 and 2 threads.
  auto run = [&](size_t from, size_t step) {
    int ok = 0;
    for (size_t i = from; i < reqs.size(); i += step) {
      auto res = store.Check(reqs[i]);
      ok += res.ok() && *res;
    }
    return ok;
  };
  auto s0 = std::chrono::steady_clock::now();
  double c0 = ThreadCpuSeconds();
  run(0, 1);
  double cpu_ops = reqs.size() / (ThreadCpuSeconds() - c0);
  single = std::max(
      single,
      reqs.size() / std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
  auto m0 = std::chrono::steady_clock::now();
  std::thread a([&] { run(0, 2); });
  std::thread b([&] { run(1, 2); });
  a.join();
  b.join();
  double two =
      reqs.size() / std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
  std::sort(lat.begin(), lat.end());
  return Stats{lat[lat.size() / 2], lat[lat.size() * 99 / 100], single, two, cpu_ops, allowed};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  auto wanted = [&](std::string_view row) { return only.empty() || row.starts_with(only); };
  FakeClock clock;
  SeededRandom random(42);
  StoreLimits limits;
  Store store(StoreRecord{"bench", "bench", 0, 0}, nullptr, clock, random, limits);
  auto model = ModelFromDsl(kModel);
  if (!model.ok() || !store.WriteAuthorizationModel(*model).ok()) {
    std::fprintf(stderr, "model error\n");
    return 1;
  }
  std::mt19937_64 rng(1234);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };

  size_t rss_before = RssBytes();
  std::vector<TupleKey> batch;
  size_t total = 0;
  auto flush = [&](bool force) {
    if (batch.size() >= 100'000 || (force && !batch.empty())) {
      total += batch.size();
      if (!store.LoadTuples(batch).ok()) std::abort();
      batch.clear();
    }
  };
  auto add = [&](TupleKey t) {
    batch.push_back(std::move(t));
    flush(false);
  };
  for (int g = 0; g < kGroups; ++g) {
    for (int m = 0; m < kMembersPerGroup; ++m) add(T(U(pick(kUsers)), "member", G(g)));
  }
  for (int f = 1; f < kFolders; ++f) add(T(F((f - 1) / 10), "parent", F(f)));  // a 10-ary tree
  for (int f = 0; f < kFolders; ++f) add(T(G(pick(kGroups)) + "#member", "viewer", F(f)));
  for (int d = 0; d < kDocs; ++d) {
    add(T(F(pick(kFolders)), "parent", D(d)));
    add(T(U(pick(kUsers)), "owner", D(d)));
    add(T(U(pick(kUsers)), "viewer", D(d)));
    if (d % 2 == 0) add(T(U(pick(kUsers)), "viewer", D(d)));
    if (d % 4 == 0) add(T(G(pick(kGroups)) + "#member", "viewer", D(d)));
    if (d % 20 == 0) add(T(U(pick(kUsers)), "blocked", D(d)));
  }
  // ListObjects target: one user sees exactly 1,000 documents through one folder.
  add(T("user:lister", "viewer", "folder:special"));
  for (int i = 0; i < 1000; ++i)
    add(T("folder:special", "parent", "doc:special" + std::to_string(i)));
  flush(true);
  size_t rss_after = RssBytes();
  size_t tuples = store.TupleCount();
  std::printf("tuples loaded: %zu\n", tuples);
  std::printf("memory: RSS growth %.1f MiB = %.1f bytes/tuple (index estimate %.1f bytes/tuple)\n",
              (rss_after - rss_before) / 1048576.0,
              static_cast<double>(rss_after - rss_before) / tuples,
              static_cast<double>(store.MemoryBytes()) / tuples);

  // Query sets: read the store back to find tuples that exist.
  constexpr int kQueries = 200'000;
  auto read = [&](const std::string& object) {
    return store.Read(ReadRequest{object, "", "", 100, ""});
  };
  std::vector<std::vector<std::string>> doc_viewers(2000), doc_owners(2000), members(2000);
  std::vector<std::string> doc_names, group_names;
  for (int i = 0; i < 2000; ++i) {
    group_names.push_back(G(pick(kGroups)));
    for (const auto& t : read(group_names.back())->tuples) members[i].push_back(t.user);
  }
  for (int i = 0; i < 2000; ++i) {
    int d = pick(kDocs);
    doc_names.push_back(D(d));
    auto r = read(D(d));
    for (const auto& t : r->tuples) {
      if (t.relation == "viewer" && t.user.rfind("user:", 0) == 0) doc_viewers[i].push_back(t.user);
      if (t.relation == "owner") doc_owners[i].push_back(t.user);
    }
  }
  std::vector<CheckRequest> direct, userset, chain, intersection, exclusion;
  for (int q = 0; q < kQueries; ++q) {
    int i = q % 2000;
    // Direct: half hits (a direct viewer), half misses (a random user).
    std::string user =
        (q % 2 == 0 && !doc_viewers[i].empty()) ? doc_viewers[i][0] : U(pick(kUsers));
    std::string owner = (q % 2 == 0 && !doc_owners[i].empty()) ? doc_owners[i][0] : U(pick(kUsers));
    direct.push_back(CheckRequest{owner, "owner", doc_names[i], {}, {}, ""});
    // Userset: folder viewers through a group#member tuple on the folder (half are members).
    int f = pick(kFolders);
    auto folder_tuples = q < 4000 ? read(F(f)) : Result<ReadResponse>(ReadResponse{});
    (void)folder_tuples;
    std::string member = (q % 2 == 0 && !members[i].empty()) ? members[i][0] : U(pick(kUsers));
    userset.push_back(CheckRequest{member, "member", group_names[i], {}, {}, ""});
    // Chain: a doc viewer through its folder ancestry (tuple-to-userset, up to 5 levels) and
    // groups; random users mostly walk the whole chain and miss.
    chain.push_back(CheckRequest{U(pick(kUsers)), "viewer", doc_names[i], {}, {}, ""});
    intersection.push_back(CheckRequest{doc_owners[i].empty() ? U(pick(kUsers)) : doc_owners[i][0],
                                        "can_edit",
                                        doc_names[i],
                                        {},
                                        {},
                                        ""});
    exclusion.push_back(CheckRequest{user, "can_view", doc_names[i], {}, {}, ""});
  }
  // Userset hits: a group's own member checked against a group#member tuple on a folder.
  std::printf("\n%-34s %12s %12s %12s %9s %9s %8s\n", "check", "per CPU-s", "1 thread/s",
              "2 threads/s", "p50 us", "p99 us", "allowed");
  auto report = [&](const char* name, const std::vector<CheckRequest>& reqs) {
    if (!wanted(name)) return;
    Stats s = Measure(store, reqs);
    std::printf("%-34s %12.0f %12.0f %12.0f %9.2f %9.2f %7.1f%%\n", name, s.cpu_ops,
                s.single_thread_ops, s.two_thread_ops, s.p50_us, s.p99_us,
                100.0 * s.allowed / reqs.size());
  };
  report("direct (doc#owner, 50% hits)", direct);
  report("userset (group member, 50% hits)", userset);
  report("ttu chain (doc->folder^5 + groups)", chain);
  report("intersection (owner and viewer)", intersection);
  report("exclusion (viewer but not blocked)", exclusion);

  if (!wanted("listobjects")) return 0;
  ListObjectsRequest lo{"user:lister", "viewer", "doc", {}, {}, "", 1000, ""};
  std::vector<double> lat;
  size_t count = 0;
  for (int i = 0; i < 50; ++i) {
    auto a = std::chrono::steady_clock::now();
    auto r = store.ListObjects(lo);
    auto b = std::chrono::steady_clock::now();
    count = r.ok() ? r->objects.size() : 0;
    lat.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(lat.begin(), lat.end());
  std::printf("\nListObjects (%zu results): p50 %.2f ms, p99 %.2f ms\n", count, lat[lat.size() / 2],
              lat[lat.size() * 99 / 100]);
  return 0;
}
