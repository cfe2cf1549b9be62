#include "authz_agent/document_tools.h"

#include <boost/json.hpp>

namespace gh::authz_agent {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxResults = 10;

agent::ToolResult Error(std::string message) {
  return {bj::serialize(bj::object{{"error", std::move(message)}}), true};
}

class SearchDocumentsTool final : public agent::Tool {
 public:
  explicit SearchDocumentsTool(const DocumentCollection& documents) : documents_(documents) {
    spec_.name = "search_documents";
    spec_.description =
        "Search the organisation's documents by keywords. Returns the best matching documents "
        "the user is allowed to view, with a snippet of each.";
    spec_.parameters_schema = R"({"type":"object","properties":{"query":{"type":"string",)"
                              R"("minLength":1,"maxLength":200,"description":"keywords to )"
                              R"(look for"}},"required":["query"],"additionalProperties":false})";
    authorization_.needs = {std::string(kDocumentType) + "#" + kViewerRelation};
  }
  const agent::ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  const agent::ToolAuthorization& authorization() const override { return authorization_; }
  agent::Awaitable<agent::ToolResult> Run(const agent::TenantContext& context,
                                          const bj::object& arguments) override {
    std::string query(arguments.at("query").get_string());
    auto found = documents_.Search(context.tenant_id, context.user_id, query, kMaxResults);
    if (!found.ok()) co_return Error("the document search failed");
    bj::array results;
    for (const auto& hit : found->hits) {
      results.push_back(bj::object{{"document_id", hit.document.id},
                                   {"title", hit.document.title},
                                   {"matches", hit.matches},
                                   {"snippet", hit.snippet}});
    }
    bj::object out{{"query", query}, {"total", found->total}, {"results", std::move(results)}};
    agent::ToolResult result{bj::serialize(out), false};
    co_return result;
  }

 private:
  const DocumentCollection& documents_;
  agent::ToolSpec spec_;
  agent::ToolAuthorization authorization_;
};

class ReadDocumentTool final : public agent::Tool {
 public:
  explicit ReadDocumentTool(const DocumentCollection& documents) : documents_(documents) {
    spec_.name = "read_document";
    spec_.description = "Read one of the organisation's documents by its id.";
    spec_.parameters_schema = R"({"type":"object","properties":{"document_id":{"type":"string",)"
                              R"("minLength":1,"maxLength":128}},"required":["document_id"],)"
                              R"("additionalProperties":false})";
    authorization_.call = {kViewerRelation,
                           std::string(kDocumentType) + ":{arguments.document_id}"};
  }
  const agent::ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  const agent::ToolAuthorization& authorization() const override { return authorization_; }
  agent::Awaitable<agent::ToolResult> Run(const agent::TenantContext& context,
                                          const bj::object& arguments) override {
    std::string id(arguments.at("document_id").get_string());
    auto doc = documents_.Get(context.tenant_id, id);
    if (!doc.ok()) co_return Error("reading the document failed");
    if (!*doc) co_return Error("document not found");
    bj::object out{
        {"document_id", (*doc)->id}, {"title", (*doc)->title}, {"content", (*doc)->content}};
    agent::ToolResult result{bj::serialize(out), false};
    co_return result;
  }

 private:
  const DocumentCollection& documents_;
  agent::ToolSpec spec_;
  agent::ToolAuthorization authorization_;
};

}  // namespace

std::shared_ptr<agent::Tool> MakeSearchDocumentsTool(const DocumentCollection& documents) {
  return std::make_shared<SearchDocumentsTool>(documents);
}

std::shared_ptr<agent::Tool> MakeReadDocumentTool(const DocumentCollection& documents) {
  return std::make_shared<ReadDocumentTool>(documents);
}

}  // namespace gh::authz_agent
