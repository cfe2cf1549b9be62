// AsyncStatus: an operation that reports a Status through a callback, from any thread, as an asio
// asynchronous operation (co_await it with use_awaitable). The completion runs on the initiating
// handler's executor, which keeps outstanding work until then, so an io_context with nothing else
// to do does not return from run() while its coroutine waits on another thread.
// Include only from .cc files (Boost.Asio headers).
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <utility>

#include "common/status.h"

namespace gh {

// `start(done)` begins the operation; `done(Status)` may be called on any thread, once.
template <typename Token, typename Start>
auto AsyncStatus(Start start, Token&& token) {
  return boost::asio::async_initiate<Token, void(Status)>(
      [](auto handler, Start begin) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto work = std::make_shared<boost::asio::executor_work_guard<
            boost::asio::associated_executor_t<decltype(handler)>>>(
            boost::asio::get_associated_executor(*h));
        begin(std::function<void(Status)>([h, work](Status st) {
          boost::asio::post(work->get_executor(), [h, work, st = std::move(st)]() mutable {
            work->reset();
            std::move (*h)(std::move(st));
          });
        }));
      },
      token, std::move(start));
}

}  // namespace gh
