// RequestTrace and TraceRegistry: the spans of the requests in flight. The metering filter starts
// a RequestTrace when a request arrives (its trace id and the request's own span id), filters add
// their spans to it, and the chat turn finds it by trace id to hang its spans under the request's
// span and, once it ended, hands them over with its trace summary: the request's and the turn's
// are then stored together, the trace's summary row written once. When the request ends the filter
// takes the spans and unregisters the trace.
// Thread-safe: a trace may be touched from the connection's thread and from worker threads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observability/span.h"
#include "storage/metering_repository.h"

namespace gh::observability {

class RequestTrace {
 public:
  RequestTrace(std::string trace_id, std::string span_id, std::string remote_parent_span_id)
      : trace_id_(std::move(trace_id)),
        span_id_(std::move(span_id)),
        remote_parent_(std::move(remote_parent_span_id)) {}

  const std::string& trace_id() const { return trace_id_; }
  // The request's own span: the parent of everything that happens while serving it.
  const std::string& span_id() const { return span_id_; }
  // The caller's span from an incoming traceparent (empty when the trace started here).
  const std::string& remote_parent_span_id() const { return remote_parent_; }

  void Add(Span span);
  // What a chat turn under this request recorded for its trace: the finished turn's spans and
  // summary, or spans its provider reported while it ran (Metering::RecordTurnSpans). Unlike the
  // request's own spans, these keep the tenant they carry.
  struct Turn {
    std::vector<Span> spans;
    storage::TraceRow summary;
  };
  // Takes `turn` (moved from) to be stored with the request's spans. False, and `turn` untouched,
  // once the request's spans were taken: the turn then stores them itself.
  bool Adopt(Turn& turn);
  struct Taken {
    std::vector<Span> spans;  // the request's own (its filters')
    std::vector<Turn> turns;
  };
  // Once, when the request ends.
  Taken Take();
  // A chat turn ran under this request: the request's own spans are worth keeping too.
  void MarkTurn() { turn_ = true; }
  bool has_turn() const { return turn_; }

 private:
  const std::string trace_id_, span_id_, remote_parent_;
  std::mutex mu_;
  std::vector<Span> spans_;
  std::vector<Turn> turns_;
  bool taken_ = false;
  std::atomic<bool> turn_{false};
};

class TraceRegistry {
 public:
  // False (nothing registered) when a request with the same trace id is already in flight, which
  // a caller reusing its traceparent for parallel requests causes: spans then go to the first.
  bool Register(const std::shared_ptr<RequestTrace>& trace);
  void Unregister(const RequestTrace& trace);
  std::shared_ptr<RequestTrace> Find(std::string_view trace_id) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RequestTrace>, std::less<>> traces_;
};

}  // namespace gh::observability
