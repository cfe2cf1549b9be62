// UserFeed: live notifications for one user's open pages (GET /api/me/events, Server-Sent
// Events): a new approval request, a decision, an expiry, a conversation that went on after an
// approval, a connected account's status. Publishers on any thread; each subscriber waits on its
// own connection's executor without holding a thread (a timer the publisher cancels by posting to
// that executor). Delivery is best effort and in-process: a page that connects (or reconnects)
// loads the current state first, then follows the feed. Shutdown() ends every subscription (the
// server's drain must not wait for open feeds). Thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/ids.h"
#include "http/stream.h"

namespace gh::approvals {

struct FeedEvent {
  std::string event;  // e.g. approval_requested
  std::string data;   // JSON object text
};

class UserFeed {
 public:
  class Subscription;

  // Subscribes on `executor` (the caller's connection). Ends when Unsubscribe or Shutdown is
  // called.
  std::shared_ptr<Subscription> Subscribe(const TenantId& tenant, const UserId& user,
                                          boost::asio::any_io_executor executor);
  void Unsubscribe(const std::shared_ptr<Subscription>& sub);
  // Waits up to `max_wait` for events; returns them (empty on timeout). `closed` tells whether the
  // feed ended (shutdown).
  http::Awaitable<std::vector<FeedEvent>> Next(Subscription& sub,
                                               std::chrono::milliseconds max_wait, bool& closed);

  void Publish(const TenantId& tenant, const UserId& user, std::string event, std::string data);
  void Shutdown();
  size_t subscribers() const;

 private:
  mutable std::mutex mu_;
  bool shut_down_ = false;
  std::multimap<std::string, std::shared_ptr<Subscription>> subs_;  // key: tenant NUL user
};

class UserFeed::Subscription {
 public:
  explicit Subscription(boost::asio::any_io_executor ex, std::string key)
      : timer_(std::move(ex)), key_(std::move(key)) {}

 private:
  friend class UserFeed;
  std::mutex mu_;
  std::deque<FeedEvent> queue_;
  bool closed_ = false;
  boost::asio::steady_timer timer_;
  std::string key_;
};

}  // namespace gh::approvals
