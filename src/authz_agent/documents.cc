#include "authz_agent/documents.h"

#include <algorithm>
#include <set>

#include "authz/tuple.h"
#include "authz_agent/tool_authorizer.h"
#include "common/strings.h"

namespace gh::authz_agent {
namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTitleBytes = 300;
constexpr size_t kMaxContentBytes = 256 * 1024;
constexpr size_t kSnippetBytes = 200;

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

int64_t CountOccurrences(std::string_view text, std::string_view word) {
  int64_t n = 0;
  for (size_t pos = text.find(word); pos != std::string_view::npos;
       pos = text.find(word, pos + word.size())) {
    ++n;
  }
  return n;
}

// Moves a byte offset back to the start of a UTF-8 character.
size_t CharStart(std::string_view s, size_t pos) {
  while (pos > 0 && pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

std::string Snippet(const std::string& content, const std::string& lower,
                    const std::vector<std::string>& words) {
  size_t first = std::string::npos;
  for (const auto& w : words) first = std::min(first, lower.find(w));
  if (first == std::string::npos) first = 0;
  size_t start = CharStart(content, first > kSnippetBytes / 4 ? first - kSnippetBytes / 4 : 0);
  size_t end = CharStart(content, std::min(content.size(), start + kSnippetBytes));
  std::string out = content.substr(start, end - start);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (start > 0) out = "..." + out;
  if (end < content.size()) out += "...";
  return out;
}

}  // namespace

std::vector<std::string> Keywords(std::string_view query) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && !IsWordByte(static_cast<unsigned char>(query[i]))) ++i;
    size_t start = i;
    while (i < query.size() && IsWordByte(static_cast<unsigned char>(query[i]))) ++i;
    std::string word = ToLower(query.substr(start, i - start));
    if (word.size() >= 2 && seen.insert(word).second) out.push_back(std::move(word));
  }
  return out;
}

bool DocumentCollection::Governed(const TenantId& tenant) const {
  auto store = stores_.AgentStore(tenant);
  if (!store) return false;
  auto model = store->ResolveModel("");
  if (!model.ok()) return false;
  const authz::TypeDefinition* type = (*model)->model().FindType(kDocumentType);
  return type && type->FindRelation(kViewerRelation);
}

Result<std::pair<storage::DocumentRow, bool>> DocumentCollection::Put(const TenantId& tenant,
                                                                      const UserId& author,
                                                                      PutDocument document) {
  if (document.id.empty()) document.id = "doc_" + HexEncode(random_.Bytes(8));
  if (document.id.size() > kMaxIdBytes || !authz::IsValidObjectId(document.id)) {
    return Status::InvalidArgument(
        "document_id must be at most 128 letters, digits or _|@.+/- and not start with '*'",
        "invalid_document_id");
  }
  if (document.title.empty() || document.title.size() > kMaxTitleBytes) {
    return Status::InvalidArgument("title must be 1 to 300 bytes", "invalid_request");
  }
  if (document.content.size() > kMaxContentBytes) {
    return Status::InvalidArgument("content must be at most 256 KiB", "invalid_request");
  }
  const int64_t now = clock_.NowUnixMillis();
  storage::DocumentRow row{tenant,
                           std::move(document.id),
                           std::move(document.title),
                           std::move(document.content),
                           author,
                           now,
                           now};
  bool created = false;
  GH_RETURN_IF_ERROR(db_.Write([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(created, storage::documents::Upsert(tx, row));
    if (!created) {
      GH_ASSIGN_OR_RETURN(auto stored, storage::documents::Get(tx, tenant, row.id));
      if (stored) {
        row.created_at = stored->created_at;
        row.created_by = stored->created_by;
      }
    }
    return Status::Ok();
  }));
  return std::make_pair(std::move(row), created);
}

Result<bool> DocumentCollection::Delete(const TenantId& tenant, const std::string& id) {
  bool deleted = false;
  GH_RETURN_IF_ERROR(db_.Write([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(deleted, storage::documents::Delete(tx, tenant, id));
    return Status::Ok();
  }));
  return deleted;
}

Result<std::optional<storage::DocumentRow>> DocumentCollection::Get(const TenantId& tenant,
                                                                    const std::string& id) const {
  std::optional<storage::DocumentRow> out;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, storage::documents::Get(tx, tenant, id));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::string>> DocumentCollection::ViewableIds(const TenantId& tenant,
                                                                 const UserId& user) const {
  std::vector<std::string> ids;
  if (!Governed(tenant)) return ids;
  auto store = stores_.AgentStore(tenant);
  if (!store) return ids;
  authz::ListObjectsRequest request;
  request.user = FgaUser(user);
  request.relation = kViewerRelation;
  request.type = kDocumentType;
  const std::string prefix = std::string(kDocumentType) + ":";
  do {
    GH_ASSIGN_OR_RETURN(auto page, store->ListObjects(request));
    for (auto& object : page.objects) {
      if (object.starts_with(prefix)) ids.push_back(object.substr(prefix.size()));
    }
    request.continuation_token = std::move(page.continuation_token);
  } while (!request.continuation_token.empty());
  return ids;
}

Result<bool> DocumentCollection::MayView(const TenantId& tenant, const UserId& user,
                                         const std::string& id) const {
  if (!Governed(tenant) || !authz::IsValidObjectId(id)) return false;
  auto store = stores_.AgentStore(tenant);
  if (!store) return false;
  return store->Check(authz::CheckRequest{
      FgaUser(user), kViewerRelation, std::string(kDocumentType) + ":" + id, {}, {}, ""});
}

Result<std::vector<storage::DocumentRow>> DocumentCollection::List(const TenantId& tenant,
                                                                   const UserId& user,
                                                                   bool everything) const {
  std::vector<storage::DocumentRow> all;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(all, storage::documents::List(tx, tenant));
    return Status::Ok();
  }));
  if (everything) return all;
  GH_ASSIGN_OR_RETURN(auto viewable, ViewableIds(tenant, user));
  std::set<std::string> allowed(viewable.begin(), viewable.end());
  std::vector<storage::DocumentRow> out;
  for (auto& d : all) {
    if (allowed.count(d.id)) out.push_back(std::move(d));
  }
  return out;
}

Result<SearchResult> DocumentCollection::Search(const TenantId& tenant, const UserId& user,
                                                const std::string& query, size_t limit) const {
  SearchResult result;
  std::vector<std::string> words = Keywords(query);
  if (words.empty()) return result;
  GH_ASSIGN_OR_RETURN(auto viewable, ViewableIds(tenant, user));
  if (viewable.empty()) return result;
  std::vector<storage::DocumentRow> docs;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(docs, storage::documents::GetMany(tx, tenant, viewable));
    return Status::Ok();
  }));
  for (auto& d : docs) {
    std::string title = ToLower(d.title);
    std::string content = ToLower(d.content);
    int64_t matches = 0;
    for (const auto& w : words) {
      matches += CountOccurrences(title, w) + CountOccurrences(content, w);
    }
    if (matches == 0) continue;
    std::string snippet = Snippet(d.content, content, words);
    d.content.clear();
    result.hits.push_back({std::move(d), matches, std::move(snippet)});
  }
  std::sort(result.hits.begin(), result.hits.end(), [](const auto& a, const auto& b) {
    return a.matches != b.matches ? a.matches > b.matches : a.document.id < b.document.id;
  });
  result.total = result.hits.size();
  if (result.hits.size() > limit) result.hits.resize(limit);
  return result;
}

}  // namespace gh::authz_agent
