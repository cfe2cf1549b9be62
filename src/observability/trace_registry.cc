#include "observability/trace_registry.h"

namespace gh::observability {

void RequestTrace::Add(Span span) {
  std::lock_guard lock(mu_);
  spans_.push_back(std::move(span));
}

bool RequestTrace::Adopt(Turn& turn) {
  std::lock_guard lock(mu_);
  if (taken_) return false;
  turns_.push_back(std::move(turn));
  return true;
}

RequestTrace::Taken RequestTrace::Take() {
  std::lock_guard lock(mu_);
  taken_ = true;
  return {std::exchange(spans_, {}), std::exchange(turns_, {})};
}

bool TraceRegistry::Register(const std::shared_ptr<RequestTrace>& trace) {
  std::lock_guard lock(mu_);
  return traces_.emplace(trace->trace_id(), trace).second;
}

void TraceRegistry::Unregister(const RequestTrace& trace) {
  std::lock_guard lock(mu_);
  auto it = traces_.find(trace.trace_id());
  if (it != traces_.end() && it->second.get() == &trace) traces_.erase(it);
}

std::shared_ptr<RequestTrace> TraceRegistry::Find(std::string_view trace_id) const {
  std::lock_guard lock(mu_);
  auto it = traces_.find(trace_id);
  return it == traces_.end() ? nullptr : it->second;
}

size_t TraceRegistry::size() const {
  std::lock_guard lock(mu_);
  return traces_.size();
}

}  // namespace gh::observability
