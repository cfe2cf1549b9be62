// OfflineModel: the default model. Deterministic and networkless, so Gatehouse is demo-ready and
// testable anywhere. A weather question makes it call a weather tool (when the plan offers one) and
// answer from the result; "search documents for X" / "find documents about X" calls
// search_documents and "read document ID" calls read_document (when offered), answering from the
// result; anything else gets an honest reply saying it is the offline model and how to configure a
// real one. It streams its answer word by word and reports token counts. It honours the client's
// stop sequences (the answer ends before the first one that occurs, stop_reason "stop_sequence");
// the other sampling parameters mean nothing to it. Asked for a response_format, it gives that
// answer as JSON: {"answer": ...} for json_object, a deterministic instance of the schema for
// json_schema (answer-like string properties carry the answer).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/model.h"

namespace gh::models {

class OfflineModel final : public agent::Model {
 public:
  // `delay` between streamed pieces, so streaming is visible in the UI (0 in most tests).
  explicit OfflineModel(std::chrono::milliseconds delay) : delay_(delay) {}
  std::string_view provider() const override { return "offline"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;

 private:
  std::chrono::milliseconds delay_;
};

// Exposed for tests.
bool IsWeatherQuestion(std::string_view text);
std::string ExtractLocation(std::string_view text);

// A request about the document collection: "search documents for X", "find documents about X"
// (kind "search", argument the query) or "read document ID" (kind "read", argument the id).
struct DocumentRequest {
  std::string kind;
  std::string argument;
};
std::optional<DocumentRequest> ParseDocumentRequest(std::string_view text);

}  // namespace gh::models
