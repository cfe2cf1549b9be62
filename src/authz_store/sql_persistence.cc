#include "authz_store/sql_persistence.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "authz/errors.h"
#include "storage/authz_repository.h"

namespace gh::authz_store {
namespace {

namespace bj = boost::json;
namespace st = storage;

st::AuthzTupleRow ToRow(const authz::TupleKey& t, int64_t at) {
  st::AuthzTupleRow row{t.object, t.relation, t.user, "", std::nullopt, at};
  if (t.condition) {
    row.condition_name = t.condition->name;
    row.condition_context = bj::serialize(t.condition->context);
  }
  return row;
}

Result<authz::TupleKey> FromRow(const st::AuthzTupleRow& row) {
  authz::TupleKey t{row.subject, row.relation, row.object, std::nullopt};
  if (!row.condition_name.empty()) {
    authz::TupleCondition c{row.condition_name, {}};
    if (row.condition_context && !row.condition_context->empty()) {
      boost::system::error_code ec;
      bj::value v = bj::parse(*row.condition_context, ec);
      if (ec || !v.is_object()) {
        return Status::Internal("stored condition context of " + t.ToString() + " is not JSON");
      }
      c.context = std::move(v.get_object());
    }
    t.condition = std::move(c);
  }
  return t;
}

Result<int64_t> ParseToken(const std::string& token) {
  if (token.empty()) return int64_t(0);
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), seq);
  if (ec != std::errc() || end != token.data() + token.size() || seq < 0) {
    return authz::errors::InvalidContinuationToken();
  }
  return seq;
}

}  // namespace

Status SqlAuthzPersistence::CreateStore(const authz::StoreRecord& store) {
  return db_.Write([&](st::Tx& tx) {
    return st::authz_stores::Insert(
        tx, tenant_, {store.id, store.name, store.created_at_ms, store.updated_at_ms});
  });
}

Status SqlAuthzPersistence::DeleteStore(const std::string& store_id) {
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(bool deleted, st::authz_stores::Delete(tx, tenant_, store_id));
    (void)deleted;  // deleting an absent store is not an error here: the registry checked
    return Status::Ok();
  });
}

Status SqlAuthzPersistence::SaveModel(const std::string& store_id,
                                      const authz::ModelRecord& model) {
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(
        int64_t seq, st::authz_stores::ReserveSeq(tx, tenant_, store_id, 1, model.created_at_ms));
    return st::authz_models::Insert(tx, tenant_, store_id, seq,
                                    {model.id, model.json, model.created_at_ms});
  });
}

Status SqlAuthzPersistence::AppendChanges(const std::string& store_id,
                                          const std::vector<authz::TupleChange>& changes) {
  if (changes.empty()) return Status::Ok();
  return db_.Write([&](st::Tx& tx) -> Status {
    const int64_t count = static_cast<int64_t>(changes.size());
    GH_ASSIGN_OR_RETURN(int64_t last, st::authz_stores::ReserveSeq(tx, tenant_, store_id, count,
                                                                   changes.back().timestamp_ms));
    int64_t seq = last - count;
    for (const auto& c : changes) {
      st::AuthzTupleRow row = ToRow(c.tuple, c.timestamp_ms);
      const bool deleted = c.operation == authz::TupleOperation::kDelete;
      if (deleted) {
        GH_RETURN_IF_ERROR(
            st::authz_tuples::Delete(tx, tenant_, store_id, row.object, row.relation, row.subject));
      } else {
        GH_RETURN_IF_ERROR(st::authz_tuples::Upsert(tx, tenant_, store_id, row));
      }
      GH_RETURN_IF_ERROR(st::authz_changes::Insert(
          tx, tenant_, store_id, {++seq, std::move(row), deleted, c.timestamp_ms}));
    }
    return Status::Ok();
  });
}

namespace {

Result<authz::StoreSnapshot> LoadStoreIn(st::Tx& tx, const TenantId& tenant,
                                         const st::AuthzStoreRow& s) {
  authz::StoreSnapshot snap;
  snap.store = {s.id, s.name, s.created_at, s.updated_at};
  GH_ASSIGN_OR_RETURN(auto models, st::authz_models::List(tx, tenant, s.id));
  for (auto& m : models) {
    snap.models.push_back({std::move(m.id), std::move(m.definition), m.created_at});
  }
  GH_ASSIGN_OR_RETURN(auto tuples, st::authz_tuples::List(tx, tenant, s.id));
  snap.tuples.reserve(tuples.size());
  for (const auto& row : tuples) {
    GH_ASSIGN_OR_RETURN(authz::TupleKey t, FromRow(row));
    snap.tuples.push_back(std::move(t));
  }
  return snap;
}

}  // namespace

Result<std::vector<authz::StoreSnapshot>> SqlAuthzPersistence::LoadAll() {
  std::vector<authz::StoreSnapshot> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    out.clear();
    GH_ASSIGN_OR_RETURN(auto stores, st::authz_stores::List(tx, tenant_));
    for (const auto& s : stores) {
      GH_ASSIGN_OR_RETURN(auto snap, LoadStoreIn(tx, tenant_, s));
      out.push_back(std::move(snap));
    }
    return Status::Ok();
  }));
  return out;
}

Result<authz::StoreSnapshot> SqlAuthzPersistence::LoadStore(const std::string& store_id) {
  authz::StoreSnapshot out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto stores, st::authz_stores::List(tx, tenant_));
    for (const auto& s : stores) {
      if (s.id != store_id) continue;
      GH_ASSIGN_OR_RETURN(out, LoadStoreIn(tx, tenant_, s));
      return Status::Ok();
    }
    return authz::errors::StoreNotFound(store_id);
  }));
  return out;
}

Result<SqlAuthzPersistence::Delta> SqlAuthzPersistence::ReadSince(const std::string& store_id,
                                                                  int64_t after_seq) {
  constexpr int64_t kPage = 1000;
  Delta delta;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    delta = Delta{};
    delta.last_seq = after_seq;
    GH_ASSIGN_OR_RETURN(auto models, st::authz_models::List(tx, tenant_, store_id));
    for (auto& m : models) {
      if (m.seq > after_seq) delta.new_models = true;
      delta.last_seq = std::max(delta.last_seq, m.seq);
      delta.models.push_back({std::move(m.id), std::move(m.definition), m.created_at});
    }
    for (int64_t after = after_seq;;) {
      GH_ASSIGN_OR_RETURN(auto rows,
                          st::authz_changes::ListAfter(tx, tenant_, store_id, "", after, 0, kPage));
      for (const auto& row : rows) {
        GH_ASSIGN_OR_RETURN(authz::TupleKey t, FromRow(row.tuple));
        delta.changes.push_back(
            {std::move(t),
             row.deleted ? authz::TupleOperation::kDelete : authz::TupleOperation::kWrite,
             row.created_at});
        after = row.seq;
      }
      delta.last_seq = std::max(delta.last_seq, after);
      if (static_cast<int64_t>(rows.size()) < kPage) break;
    }
    return Status::Ok();
  }));
  return delta;
}

Result<authz::ChangesPage> SqlAuthzPersistence::ReadChanges(const std::string& store_id,
                                                            const std::string& type,
                                                            size_t page_size,
                                                            const std::string& continuation_token) {
  return ReadChangesSince(store_id, type, 0, page_size, continuation_token);
}

Result<authz::ChangesPage> SqlAuthzPersistence::ReadChangesSince(
    const std::string& store_id, const std::string& type, int64_t start_time_ms, size_t page_size,
    const std::string& continuation_token) {
  GH_ASSIGN_OR_RETURN(int64_t after, ParseToken(continuation_token));
  if (page_size == 0) page_size = 50;
  std::vector<st::AuthzChangeRow> rows;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(
        rows, st::authz_changes::ListAfter(tx, tenant_, store_id, type, after, start_time_ms,
                                           static_cast<int64_t>(page_size)));
    return Status::Ok();
  }));
  authz::ChangesPage page;
  for (const auto& row : rows) {
    GH_ASSIGN_OR_RETURN(authz::TupleKey t, FromRow(row.tuple));
    page.changes.push_back(
        {std::move(t), row.deleted ? authz::TupleOperation::kDelete : authz::TupleOperation::kWrite,
         row.created_at});
    after = row.seq;
  }
  // As OpenFGA: a token even at the end, so that a client can poll for later changes.
  page.continuation_token = std::to_string(after);
  return page;
}

Result<std::vector<int64_t>> SqlAuthzPersistence::WrittenAt(
    const std::string& store_id, const std::vector<authz::TupleKey>& tuples) {
  std::vector<int64_t> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    out.clear();
    for (const auto& t : tuples) {
      GH_ASSIGN_OR_RETURN(auto at, st::authz_tuples::WrittenAt(tx, tenant_, store_id, t.object,
                                                               t.relation, t.user));
      out.push_back(at.value_or(0));
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace gh::authz_store
