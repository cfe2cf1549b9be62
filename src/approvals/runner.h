// ApprovalRunner: what happens after a tool call that waited for the user is decided, in the
// background, holding no thread while nothing is due.
//
// A sweep (at start, so work left by a restart resumes; after each decision; and every interval)
// finds requests past their expiry (marked expired, the user told) and decided tool calls whose
// conversation has not gone on. An approved call is claimed (approved -> executing, a conditional
// UPDATE: one runner in one process wins), its stored arguments are checked against the approved
// hash, the tool is looked up, re-checked against the plan and the caller's authorization, and run
// once; the outcome is stored. Then the conversation goes on (ChatService::ContinueAfterApproval):
// the model is told the result — or that the user denied, or that the request expired — and its
// follow-up is appended to the session and pushed to the user's feed (`chat_continued`).
// A claimed execution whose process died is marked `interrupted` after its lease, never run again.
// Start/Kick/Stop are thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "agent/tool.h"
#include "approvals/service.h"
#include "chat/chat_service.h"
#include "tenancy/plan.h"

namespace gh::approvals {

struct RunnerOptions {
  std::chrono::milliseconds sweep_interval{2000};
  int64_t execution_lease_seconds = 300;  // an execution not finished by then counts as interrupted
  int64_t resume_lease_seconds = 600;
};

class ApprovalRunner {
 public:
  ApprovalRunner(RunnerOptions options, storage::Database& db, const Clock& clock,
                 ApprovalService& approvals, const agent::ToolRegistry& tools,
                 chat::ChatService& chat, std::function<tenancy::PlanCatalogPtr()> plans);

  void Start(boost::asio::any_io_executor executor);
  void Kick();
  void Stop();

 private:
  http::Awaitable<void> Loop(std::shared_ptr<boost::asio::steady_timer> timer);
  void Wake();
  http::Awaitable<void> Sweep();
  http::Awaitable<void> Process(storage::ApprovalRecord rec);
  http::Awaitable<agent::ToolResult> Execute(const storage::ApprovalRecord& rec,
                                             const agent::TenantContext& context,
                                             const tenancy::Plan* plan);
  bool Begin(const std::string& id);
  void End(const std::string& id);

  RunnerOptions options_;
  storage::Database& db_;
  const Clock& clock_;
  ApprovalService& approvals_;
  const agent::ToolRegistry& tools_;
  chat::ChatService& chat_;
  std::function<tenancy::PlanCatalogPtr()> plans_;
  // Owned by the loop's coroutine frame, so it goes away with the io_context that runs it.
  std::weak_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> kicked_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::set<std::string> running_;  // approval ids being processed in this process
};

}  // namespace gh::approvals
