// CancelSignal: lets one part of a request abort work in flight elsewhere — e.g. the client of a
// chat went away, so the upstream model call is cut. Whoever starts cancellable work subscribes a
// handler for its duration. Single-threaded: use it from one executor (the connection's).
#pragma once

#include <functional>
#include <map>

namespace gh {

class CancelSignal {
 public:
  // Runs every subscribed handler once; later subscriptions run at once.
  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    auto handlers = handlers_;
    for (auto& [id, h] : handlers) h();
  }
  bool cancelled() const { return cancelled_; }
  int Subscribe(std::function<void()> handler) {
    if (cancelled_) handler();
    handlers_[++next_] = std::move(handler);
    return next_;
  }
  void Unsubscribe(int id) { handlers_.erase(id); }

 private:
  bool cancelled_ = false;
  int next_ = 0;
  std::map<int, std::function<void()>> handlers_;
};

}  // namespace gh
