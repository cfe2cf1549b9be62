#include "approvals/user_feed.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gh::approvals {

namespace net = boost::asio;

namespace {

constexpr size_t kMaxQueued = 256;  // a subscriber that stopped reading loses the oldest events

std::string FeedKey(const TenantId& tenant, const UserId& user) {
  std::string k = tenant.value();
  k.push_back('\0');
  return k + user.value();
}

}  // namespace

std::shared_ptr<UserFeed::Subscription> UserFeed::Subscribe(const TenantId& tenant,
                                                            const UserId& user,
                                                            net::any_io_executor executor) {
  auto sub = std::make_shared<Subscription>(std::move(executor), FeedKey(tenant, user));
  std::lock_guard lock(mu_);
  if (shut_down_) {
    sub->closed_ = true;
    return sub;
  }
  subs_.emplace(sub->key_, sub);
  return sub;
}

void UserFeed::Unsubscribe(const std::shared_ptr<Subscription>& sub) {
  std::lock_guard lock(mu_);
  auto [begin, end] = subs_.equal_range(sub->key_);
  for (auto it = begin; it != end; ++it)
    if (it->second == sub) {
      subs_.erase(it);
      break;
    }
}

http::Awaitable<std::vector<FeedEvent>> UserFeed::Next(Subscription& sub,
                                                       std::chrono::milliseconds max_wait,
                                                       bool& closed) {
  std::vector<FeedEvent> out;
  {
    std::lock_guard lock(sub.mu_);
    closed = sub.closed_;
    if (closed || !sub.queue_.empty()) {
      out.assign(sub.queue_.begin(), sub.queue_.end());
      sub.queue_.clear();
      co_return out;
    }
    // Armed before we suspend: a publisher's Wake is posted to this executor and so runs only
    // after the wait below has started.
    sub.timer_.expires_after(max_wait);
  }
  boost::system::error_code ec;
  co_await sub.timer_.async_wait(net::redirect_error(net::use_awaitable, ec));
  std::lock_guard lock(sub.mu_);
  closed = sub.closed_;
  out.assign(sub.queue_.begin(), sub.queue_.end());
  sub.queue_.clear();
  co_return out;
}

void UserFeed::Publish(const TenantId& tenant, const UserId& user, std::string event,
                       std::string data) {
  std::vector<std::shared_ptr<Subscription>> targets;
  {
    std::lock_guard lock(mu_);
    auto [begin, end] = subs_.equal_range(FeedKey(tenant, user));
    for (auto it = begin; it != end; ++it) targets.push_back(it->second);
  }
  for (auto& sub : targets) {
    {
      std::lock_guard lock(sub->mu_);
      if (sub->queue_.size() >= kMaxQueued) sub->queue_.pop_front();
      sub->queue_.push_back({event, data});
    }
    // Keep the subscription alive until the posted cancel has run.
    net::post(sub->timer_.get_executor(), [sub] { sub->timer_.cancel(); });
  }
}

void UserFeed::Shutdown() {
  std::vector<std::shared_ptr<Subscription>> all;
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    for (auto& [k, s] : subs_) all.push_back(s);
    subs_.clear();
  }
  for (auto& sub : all) {
    {
      std::lock_guard lock(sub->mu_);
      sub->closed_ = true;
    }
    net::post(sub->timer_.get_executor(), [sub] { sub->timer_.cancel(); });
  }
}

size_t UserFeed::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace gh::approvals
