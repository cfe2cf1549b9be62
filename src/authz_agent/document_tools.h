// The document tools. Both are offered only where the tenant's authorization model defines
// `document#viewer` (and, where it defines `tool#can_use`, to users who may use them):
//  - search_documents {query}: keyword search over the documents the caller may view; returns
//    {query, total, results: [{document_id, title, matches, snippet}]}, best first, at most 10.
//  - read_document {document_id}: the document's title and content; the call is authorized
//    before it runs (`viewer` on `document:{arguments.document_id}`), so a document the caller may
//    not see is refused, and recorded, without revealing whether it exists.
#pragma once

#include <memory>

#include "agent/tool.h"
#include "authz_agent/documents.h"

namespace gh::authz_agent {

// The collection is borrowed and must outlive the tools.
std::shared_ptr<agent::Tool> MakeSearchDocumentsTool(const DocumentCollection& documents);
std::shared_ptr<agent::Tool> MakeReadDocumentTool(const DocumentCollection& documents);

}  // namespace gh::authz_agent
