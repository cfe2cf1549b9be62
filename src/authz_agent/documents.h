// DocumentCollection: each tenant's documents (stored in the database) and who may see them
// ("FGA for RAG"): a user sees a document when the tenant's agent store allows
// `user:<user id>` `viewer` on `document:<document id>`. A tenant whose latest model does not
// define `document#viewer` is not governed: its members see no document through the agent or
// the member API (tenant admins manage the collection and see all of it through the API).
//
// Search is a case-insensitive keyword match over title and content, ranked by the number of
// keyword occurrences; only the documents the user may view are ever loaded (ListObjects first,
// then the permitted documents by id).
//
// Thread-safe. The database and the stores are borrowed and must outlive the collection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "authz_store/tenant_stores.h"
#include "common/clock.h"
#include "common/random.h"
#include "storage/authz_repository.h"
#include "storage/database.h"

namespace gh::authz_agent {

inline constexpr const char* kDocumentType = "document";
inline constexpr const char* kViewerRelation = "viewer";

struct DocumentHit {
  storage::DocumentRow document;
  int64_t matches = 0;
  std::string snippet;  // up to ~200 bytes of content around the first match
};

struct SearchResult {
  std::vector<DocumentHit> hits;  // best first, at most the limit asked
  size_t total = 0;               // matching documents before the limit
};

struct PutDocument {
  std::string id;  // empty: a new id is generated
  std::string title;
  std::string content;
};

class DocumentCollection {
 public:
  DocumentCollection(storage::Database& db, const authz_store::TenantStores& stores,
                     const Clock& clock, Random& random)
      : db_(db), stores_(stores), clock_(clock), random_(random) {}

  // Whether the tenant's agent store's latest model defines document#viewer.
  bool Governed(const TenantId& tenant) const;

  // Creates or replaces a document; the id must be a valid OpenFGA object id (so that it can be
  // named in tuples as `document:<id>`). Returns the stored row and whether it was created.
  Result<std::pair<storage::DocumentRow, bool>> Put(const TenantId& tenant, const UserId& author,
                                                    PutDocument document);
  Result<bool> Delete(const TenantId& tenant, const std::string& id);
  Result<std::optional<storage::DocumentRow>> Get(const TenantId& tenant,
                                                  const std::string& id) const;

  // The ids of the documents (existing or not) the user may view; empty when not governed.
  Result<std::vector<std::string>> ViewableIds(const TenantId& tenant, const UserId& user) const;
  Result<bool> MayView(const TenantId& tenant, const UserId& user, const std::string& id) const;
  // The documents the user may view (all of them when `everything`), without content, by id.
  Result<std::vector<storage::DocumentRow>> List(const TenantId& tenant, const UserId& user,
                                                 bool everything) const;
  Result<SearchResult> Search(const TenantId& tenant, const UserId& user, const std::string& query,
                              size_t limit) const;

 private:
  storage::Database& db_;
  const authz_store::TenantStores& stores_;
  const Clock& clock_;
  Random& random_;
};

// The lower-cased (ASCII) keywords of a query: runs of letters, digits and non-ASCII bytes, at
// least two bytes long, without repeats, in order.
std::vector<std::string> Keywords(std::string_view query);

}  // namespace gh::authz_agent
