// SingleFlight: at most one run of an operation per key at a time in this process. Callers that
// arrive while a run is in flight wait for its result instead of starting their own; the next
// caller after it finished starts a new run. Waiting holds no thread: each waiter parks on a timer
// of its own executor, which the finishing run cancels (posted to that executor, so it is safe
// across the server's worker threads). Thread-safe. The operation must not throw.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/stream.h"

namespace gh::vault {

template <typename T>
class SingleFlight {
 public:
  // Runs `op` unless a run for `key` is in flight, in which case waits (at most `max_wait`) for
  // that run's result. `on_timeout` is returned to a waiter that gave up.
  http::Awaitable<T> Run(std::string key, std::function<http::Awaitable<T>()> op, T on_timeout,
                         std::chrono::milliseconds max_wait = std::chrono::minutes(2)) {
    namespace net = boost::asio;
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard lock(mu_);
      auto& slot = flights_[key];
      if (!slot) {
        slot = std::make_shared<Flight>();
        leader = true;
      }
      flight = slot;
    }
    if (leader) {
      T result = co_await op();
      {
        std::lock_guard lock(mu_);
        flights_.erase(key);
      }
      std::vector<std::shared_ptr<Waiter>> waiters;
      {
        std::lock_guard lock(flight->mu);
        flight->result = result;
        waiters.swap(flight->waiters);
      }
      for (auto& w : waiters) net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
      co_return result;
    }
    auto executor = co_await net::this_coro::executor;
    auto waiter = std::make_shared<Waiter>(executor);
    waiter->timer.expires_after(max_wait);
    std::optional<T> ready;
    {
      std::lock_guard lock(flight->mu);
      if (flight->result)
        ready = flight->result;
      else
        flight->waiters.push_back(waiter);
    }
    if (ready) co_return std::move(*ready);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    {
      std::lock_guard lock(flight->mu);
      if (flight->result) ready = flight->result;
    }
    if (ready) co_return std::move(*ready);
    co_return on_timeout;
  }

  // Runs in flight right now (tests).
  size_t in_flight() const {
    std::lock_guard lock(mu_);
    return flights_.size();
  }

 private:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;
  };
  struct Flight {
    std::mutex mu;
    std::optional<T> result;
    std::vector<std::shared_ptr<Waiter>> waiters;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace gh::vault
