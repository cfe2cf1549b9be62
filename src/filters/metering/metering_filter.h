// MeteringFilter: first on the way in, last on the way out, so it sees every request and every
// outcome, rejections included. On the way in it starts the request's trace: the caller's W3C
// `traceparent` is accepted (its trace id becomes the request's; its span the parent of ours),
// else a new trace id is made; the id is the request's trace id from then on. On the way out it
// records Prometheus metrics (requests and latency by route and status, in-flight requests, open
// event streams, limit refusals), annotates the access-log line, records the request's trace
// when it served a chat turn (the request's span and its filters' spans, tenant and user
// attached), and appends audit records for authorization denials (403) and administrative
// requests (tenant-admin and operator routes that change something).
//
// InstrumentFilters wraps the other filters so each one's work shows as a span of the request's
// trace (authenticate, tenant, limits). Filters are shared by all requests; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "metering/metering.h"
#include "observability/trace_registry.h"
#include "pipeline/filter.h"

namespace gh::filters {

class MeteringFilter final : public pipeline::Filter {
 public:
  explicit MeteringFilter(metering::Metering& metering) : m_(metering) {}
  std::string_view name() const override { return "metering"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;
  void OnResponse(pipeline::RequestContext& ctx) override;

 private:
  struct InFlight {
    std::shared_ptr<observability::RequestTrace> trace;
    bool registered = false;
    bool stream = false;
    int64_t start_us = 0;
  };
  metering::Metering& m_;
  std::mutex mu_;
  std::map<const pipeline::RequestContext*, InFlight> in_flight_;
};

// Wraps every filter of the list but the metering filter, timing each into a span.
void InstrumentFilters(std::vector<std::shared_ptr<pipeline::Filter>>& filters,
                       metering::Metering& metering);

}  // namespace gh::filters
