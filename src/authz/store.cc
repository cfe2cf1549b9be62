#include "authz/store.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "authz/cel/json.h"
#include "authz/errors.h"
#include "authz/model_json.h"
#include "authz/model_validate.h"
#include "authz/ulid.h"
#include "common/strings.h"

namespace gh::authz {
namespace bj = boost::json;

namespace {

RequestContext ToRequestContext(const bj::object& context) {
  RequestContext out;
  out.reserve(context.size());
  for (const auto& kv : context) out.emplace_back(std::string(kv.key()), cel::FromJson(kv.value()));
  return out;
}

std::string TupleDisplay(const TupleKey& t) {
  return "user: '" + t.user + "', relation: '" + t.relation + "', object: '" + t.object + "'";
}

std::string EncodeToken(std::string_view last) { return Base64UrlEncode(last); }

Result<std::string> DecodeToken(const std::string& token) {
  if (token.empty()) return std::string();
  auto decoded = Base64UrlDecode(token);
  if (!decoded) return errors::InvalidContinuationToken();
  return *decoded;
}

}  // namespace

Store::Store(StoreRecord record, AuthzPersistence* persistence, const Clock& clock, Random& random,
             StoreLimits limits)
    : record_(std::move(record)),
      persistence_(persistence),
      clock_(clock),
      random_(random),
      limits_(limits) {
  names_.Intern("");  // name id 0 means "no relation"
}

// ---- models ------------------------------------------------------------------------------------

Result<std::string> Store::WriteAuthorizationModel(Model model) {
  auto errors = ValidateModel(model, nullptr);
  if (!errors.empty()) {
    Status s = ModelErrorsToStatus(errors);
    return Status::InvalidArgument(s.message(), "invalid_authorization_model");
  }
  std::unique_lock lock(mu_);
  model.id = NewUlid(clock_, random_);
  GH_ASSIGN_OR_RETURN(auto ts, TypeSystem::Build(model, names_));
  if (persistence_) {
    ModelRecord rec{model.id, ModelToJsonString(model), clock_.NowUnixMillis()};
    GH_RETURN_IF_ERROR(persistence_->SaveModel(record_.id, rec));
  }
  models_.push_back(std::move(ts));
  return model.id;
}

Status Store::LoadModel(const Model& model) {
  std::unique_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, TypeSystem::Build(model, names_));
  models_.push_back(std::move(ts));
  return Status::Ok();
}

Result<size_t> Store::ModelIndexLocked(std::string_view model_id) const {
  if (models_.empty()) return errors::LatestModelNotFound(record_.id);
  if (model_id.empty()) return models_.size() - 1;
  for (size_t i = 0; i < models_.size(); ++i) {
    if (models_[i]->id() == model_id) return i;
  }
  return errors::ModelNotFound(model_id);
}

Result<const TypeSystem*> Store::ResolveModelLocked(std::string_view model_id) const {
  GH_ASSIGN_OR_RETURN(size_t i, ModelIndexLocked(model_id));
  return models_[i].get();
}

Result<std::shared_ptr<const TypeSystem>> Store::ResolveModel(std::string_view model_id) const {
  std::shared_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(size_t i, ModelIndexLocked(model_id));
  return models_[i];
}

std::vector<std::shared_ptr<const TypeSystem>> Store::Models() const {
  std::shared_lock lock(mu_);
  return {models_.rbegin(), models_.rend()};
}

// ---- tuples ------------------------------------------------------------------------------------

Status Store::ValidateTuple(const TypeSystem& ts, const TupleKey& t, bool for_write) const {
  std::string display = t.ToString();
  std::string_view object_type, object_id;
  if (!SplitObject(t.object, &object_type, &object_id) || !IsValidObject(t.object)) {
    return errors::InvalidTuple(display, "invalid 'object' field format");
  }
  if (t.relation.empty()) return errors::InvalidTuple(display, "the 'relation' field is empty");
  ParsedUser user;
  if (!ParseUser(t.user, &user)) {
    return errors::InvalidTuple(display, "the 'user' field is malformed");
  }
  auto type_id = names_.Find(object_type);
  if (!type_id || !ts.HasType(static_cast<uint16_t>(*type_id))) {
    return errors::TypeNotFound(object_type);
  }
  auto rel_id = names_.Find(t.relation);
  const RelationInfo* info =
      rel_id ? ts.Find(static_cast<uint16_t>(*type_id), static_cast<uint16_t>(*rel_id)) : nullptr;
  if (!info) return errors::RelationNotFound(t.relation, object_type);
  auto user_type = names_.Find(user.type);
  if (!user_type || !ts.HasType(static_cast<uint16_t>(*user_type))) {
    return errors::TypeNotFound(user.type);
  }
  uint16_t user_rel = 0;
  if (!user.relation.empty()) {
    auto r = names_.Find(user.relation);
    if (!r || !ts.Find(static_cast<uint16_t>(*user_type), static_cast<uint16_t>(*r))) {
      return errors::RelationNotFound(user.relation, user.type);
    }
    user_rel = static_cast<uint16_t>(*r);
  }
  if (!for_write) return Status::Ok();
  std::string cond = t.condition ? t.condition->name : "";
  if (t.condition && !ts.FindCondition(cond)) {
    return errors::InvalidTuple(display, "undefined condition '" + cond + "'");
  }
  bool allowed = false;
  for (const auto& r : info->restrictions) {
    if (r.type != *user_type || r.condition != cond) continue;
    if (user.wildcard ? r.wildcard : (!r.wildcard && r.relation == user_rel)) allowed = true;
  }
  if (!allowed) {
    std::string what;
    if (user.wildcard) {
      what = "the typed wildcard '" + std::string(user.object) + "'";
    } else if (!user.relation.empty()) {
      what = "'" + std::string(user.type) + "#" + std::string(user.relation) + "'";
    } else {
      what = "type '" + std::string(user.type) + "'";
    }
    if (!cond.empty()) what += " with condition '" + cond + "'";
    return errors::InvalidTuple(display, what + " is not an allowed type restriction for '" +
                                             std::string(object_type) + "#" + t.relation + "'");
  }
  return Status::Ok();
}

namespace {

uint32_t InternObject(Interner& objects, std::vector<uint32_t>& info, Interner& names,
                      std::string_view object) {
  size_t before = objects.size();
  uint32_t id = objects.Intern(object);
  if (objects.size() != before) {
    std::string_view type = object.substr(0, object.find(':'));
    uint32_t type_id = names.Intern(type) & 0xFFFF;
    bool wildcard = object.size() >= 2 && object.substr(object.size() - 2) == ":*";
    info.push_back(type_id | (wildcard ? kWildcardBit : 0));
  }
  return id;
}

std::shared_ptr<const StoredCondition> MakeCondition(const std::optional<TupleCondition>& c) {
  if (!c) return nullptr;
  auto sc = std::make_shared<StoredCondition>();
  sc->name = c->name;
  sc->context_json = c->context;
  for (const auto& kv : c->context) {
    sc->context.emplace_back(std::string(kv.key()), cel::FromJson(kv.value()));
  }
  return sc;
}

}  // namespace

Status Store::InsertLocked(const TupleKey& t) {
  ParsedUser user;
  if (!ParseUser(t.user, &user)) return errors::InvalidTuple(t.ToString(), "malformed user");
  uint32_t object = InternObject(objects_, object_info_, names_, t.object);
  uint32_t subject = InternObject(objects_, object_info_, names_, user.object);
  uint16_t relation = static_cast<uint16_t>(names_.Intern(t.relation));
  uint16_t subject_rel =
      user.relation.empty() ? 0 : static_cast<uint16_t>(names_.Intern(user.relation));
  index_.Insert(object, relation, SubjectRef{subject, subject_rel}, MakeCondition(t.condition));
  return Status::Ok();
}

Status Store::ApplyChanges(const std::vector<TupleChange>& changes) {
  std::unique_lock lock(mu_);
  for (const auto& c : changes) {
    ParsedUser user;
    if (!ParseUser(c.tuple.user, &user) || !IsValidObject(c.tuple.object)) {
      return errors::InvalidTuple(c.tuple.ToString(), "malformed tuple in the change log");
    }
    auto object = objects_.Find(c.tuple.object);
    auto subject = objects_.Find(user.object);
    auto relation = names_.Find(c.tuple.relation);
    auto subject_relation =
        user.relation.empty() ? std::optional<uint32_t>(0) : names_.Find(user.relation);
    if (object && subject && relation && subject_relation) {
      index_.Erase(*object, static_cast<uint16_t>(*relation),
                   SubjectRef{*subject, static_cast<uint16_t>(*subject_relation)});
    }
    if (c.operation == TupleOperation::kWrite) GH_RETURN_IF_ERROR(InsertLocked(c.tuple));
  }
  return Status::Ok();
}

bool Store::HasModel(std::string_view model_id) const {
  std::shared_lock lock(mu_);
  for (const auto& m : models_) {
    if (m->id() == model_id) return true;
  }
  return false;
}

void Store::OrderModels(const std::vector<std::string>& ids) {
  std::unique_lock lock(mu_);
  std::vector<std::shared_ptr<const TypeSystem>> ordered;
  ordered.reserve(models_.size());
  for (const auto& id : ids) {
    for (auto& m : models_) {
      if (m && m->id() == id) ordered.push_back(std::move(m));
    }
  }
  for (auto& m : models_) {
    if (m) ordered.push_back(std::move(m));
  }
  models_ = std::move(ordered);
}

Status Store::LoadTuples(const std::vector<TupleKey>& tuples) {
  std::unique_lock lock(mu_);
  for (const auto& t : tuples) GH_RETURN_IF_ERROR(InsertLocked(t));
  return Status::Ok();
}

Status Store::Write(const WriteRequest& request) {
  size_t total = request.writes.size() + request.deletes.size();
  if (total == 0)
    return errors::ValidationError("invalid WriteRequest: no tuples to write or delete");
  if (total > limits_.max_tuples_per_write) {
    return errors::ExceededEntityLimit(
        "The number of write operations exceeds the allowed limit of " +
        std::to_string(limits_.max_tuples_per_write));
  }
  std::set<std::string> seen;
  for (const auto* list : {&request.writes, &request.deletes}) {
    for (const auto& t : *list) {
      if (!seen.insert(t.ToString()).second)
        return errors::DuplicateTupleInRequest(TupleDisplay(t));
    }
  }
  std::unique_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, ResolveModelLocked(request.model_id));
  auto exists = [&](const TupleKey& t) -> bool {
    ParsedUser user;
    if (!ParseUser(t.user, &user)) return false;
    auto o = objects_.Find(t.object);
    auto s = objects_.Find(user.object);
    auto r = names_.Find(t.relation);
    if (!o || !s || !r) return false;
    uint16_t sr = 0;
    if (!user.relation.empty()) {
      auto x = names_.Find(user.relation);
      if (!x) return false;
      sr = static_cast<uint16_t>(*x);
    }
    return index_.Find(*o, static_cast<uint16_t>(*r), SubjectRef{*s, sr}).has_value();
  };
  // Writes and deletes that remain after skipping what OpenFGA's "ignore" options skip.
  std::vector<const TupleKey*> writes, deletes;
  auto same_condition = [&](const TupleKey& t) -> bool {
    ParsedUser user;
    ParseUser(t.user, &user);
    uint32_t object = *objects_.Find(t.object);
    uint16_t relation = static_cast<uint16_t>(*names_.Find(t.relation));
    uint16_t sr = user.relation.empty() ? 0 : static_cast<uint16_t>(*names_.Find(user.relation));
    auto subject = index_.Find(object, relation, SubjectRef{*objects_.Find(user.object), sr});
    const StoredCondition* c = subject && TupleIndex::SubjectHasCondition(*subject)
                                   ? index_.Condition(object, relation, *subject)
                                   : nullptr;
    if (!c || !t.condition) return !c && !t.condition;
    return c->name == t.condition->name && c->context_json == t.condition->context;
  };
  for (const auto& t : request.writes) {
    GH_RETURN_IF_ERROR(ValidateTuple(*ts, t, /*for_write=*/true));
    if (!exists(t)) {
      writes.push_back(&t);
    } else if (!request.ignore_duplicate_writes || !same_condition(t)) {
      return errors::WriteFailedDueToInvalidInput(
          "cannot write a tuple which already exists: " + TupleDisplay(t) +
          ": tuple to be written already existed or the tuple to be deleted did not exist");
    }
  }
  for (const auto& t : request.deletes) {
    ParsedUser user;
    if (!IsValidObject(t.object) || !ParseUser(t.user, &user) || t.relation.empty()) {
      return errors::InvalidTuple(t.ToString(), "malformed tuple");
    }
    if (exists(t)) {
      deletes.push_back(&t);
    } else if (!request.ignore_missing_deletes) {
      return errors::WriteFailedDueToInvalidInput(
          "cannot delete a tuple which does not exist: " + TupleDisplay(t) +
          ": tuple to be written already existed or the tuple to be deleted did not exist");
    }
  }
  if (writes.empty() && deletes.empty()) return Status::Ok();
  if (persistence_) {
    int64_t now = clock_.NowUnixMillis();
    std::vector<TupleChange> changes;
    for (const TupleKey* t : deletes) changes.push_back({*t, TupleOperation::kDelete, now});
    for (const TupleKey* t : writes) changes.push_back({*t, TupleOperation::kWrite, now});
    GH_RETURN_IF_ERROR(persistence_->AppendChanges(record_.id, changes));
  }
  for (const TupleKey* t : deletes) {
    ParsedUser user;
    ParseUser(t->user, &user);
    uint16_t sr = user.relation.empty() ? 0 : static_cast<uint16_t>(*names_.Find(user.relation));
    index_.Erase(*objects_.Find(t->object), static_cast<uint16_t>(*names_.Find(t->relation)),
                 SubjectRef{*objects_.Find(user.object), sr});
  }
  for (const TupleKey* t : writes) GH_RETURN_IF_ERROR(InsertLocked(*t));
  return Status::Ok();
}

Result<ReadResponse> Store::Read(const ReadRequest& request) const {
  GH_ASSIGN_OR_RETURN(std::string after, DecodeToken(request.continuation_token));
  std::string_view type_filter, id_filter;
  if (!request.object.empty()) {
    size_t colon = request.object.find(':');
    if (colon == std::string::npos) return errors::ValidationError("invalid 'object' field format");
    type_filter = std::string_view(request.object).substr(0, colon);
    id_filter = std::string_view(request.object).substr(colon + 1);
    if (id_filter.empty() && request.user.empty()) {
      return errors::ValidationError(
          "the 'tuple_key.user' field is required when 'object' is only a type");
    }
  } else if (!request.relation.empty() || !request.user.empty()) {
    return errors::ValidationError("the 'object' field is required when filtering");
  }
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, TupleKey>> rows;
  auto visit = [&](uint32_t object, uint16_t relation, uint64_t subject) {
    std::string_view obj = objects_.Str(object);
    if (!type_filter.empty()) {
      if (obj.size() <= type_filter.size() || obj.substr(0, type_filter.size()) != type_filter ||
          obj[type_filter.size()] != ':') {
        return;
      }
      if (!id_filter.empty() && obj.substr(type_filter.size() + 1) != id_filter) return;
    }
    std::string_view rel = names_.Str(relation);
    if (!request.relation.empty() && rel != request.relation) return;
    std::string user(objects_.Str(TupleIndex::SubjectObject(subject)));
    if (uint16_t sr = TupleIndex::SubjectRelation(subject)) {
      user += "#";
      user += names_.Str(sr);
    }
    if (!request.user.empty() && user != request.user) return;
    TupleKey t{user, std::string(rel), std::string(obj), std::nullopt};
    if (TupleIndex::SubjectHasCondition(subject)) {
      if (const StoredCondition* c = index_.Condition(object, relation, subject)) {
        t.condition = TupleCondition{c->name, c->context_json};
      }
    }
    std::string key = t.object + "#" + t.relation + "@" + t.user;
    if (!after.empty() && key <= after) return;
    rows.emplace_back(std::move(key), std::move(t));
  };
  if (!id_filter.empty()) {
    // One object: look its relations up instead of scanning every tuple.
    auto object = objects_.Find(request.object);
    if (object) {
      for (uint32_t rel = 1; rel < names_.size(); ++rel) {
        for (uint64_t s : index_.Direct(*object, static_cast<uint16_t>(rel))) {
          visit(*object, static_cast<uint16_t>(rel), s);
        }
        for (uint64_t s : index_.Usersets(*object, static_cast<uint16_t>(rel))) {
          visit(*object, static_cast<uint16_t>(rel), s);
        }
      }
    }
  } else {
    index_.ForEach(visit);
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t page = request.page_size ? request.page_size : limits_.default_read_page;
  ReadResponse out;
  for (size_t i = 0; i < rows.size() && i < page; ++i) out.tuples.push_back(rows[i].second);
  if (rows.size() > page) out.continuation_token = EncodeToken(rows[page - 1].first);
  return out;
}

size_t Store::TupleCount() const {
  std::shared_lock lock(mu_);
  return index_.size();
}

size_t Store::MemoryBytes() const {
  std::shared_lock lock(mu_);
  return index_.MemoryBytes() + objects_.MemoryBytes() + names_.MemoryBytes() +
         object_info_.capacity() * sizeof(uint32_t);
}

// ---- queries -----------------------------------------------------------------------------------

Result<std::unique_ptr<Overlay>> Store::BuildOverlay(const TypeSystem& ts,
                                                     const std::vector<TupleKey>& tuples) const {
  if (tuples.empty()) return std::unique_ptr<Overlay>();
  if (tuples.size() > limits_.max_contextual_tuples) {
    return errors::ExceededEntityLimit("too many contextual tuples");
  }
  auto overlay = std::make_unique<Overlay>();
  auto object_id = [&](std::string_view s) -> uint32_t {
    if (auto id = objects_.Find(s)) return *id;
    size_t before = overlay->objects.size();
    uint32_t id = overlay->objects.Intern(s);
    if (overlay->objects.size() != before) {
      std::string_view type = s.substr(0, s.find(':'));
      auto type_id = names_.Find(type);
      bool wildcard = s.size() >= 2 && s.substr(s.size() - 2) == ":*";
      overlay->info.push_back((type_id ? (*type_id & 0xFFFF) : 0xFFFF) |
                              (wildcard ? kWildcardBit : 0));
    }
    return kOverlayBase + id;
  };
  for (const auto& t : tuples) {
    GH_RETURN_IF_ERROR(ValidateTuple(ts, t, /*for_write=*/true));
    ParsedUser user;
    ParseUser(t.user, &user);
    uint32_t object = object_id(t.object);
    uint32_t subject = object_id(user.object);
    uint16_t relation = static_cast<uint16_t>(*names_.Find(t.relation));
    uint16_t sr = user.relation.empty() ? 0 : static_cast<uint16_t>(*names_.Find(user.relation));
    overlay->index.Insert(object, relation, SubjectRef{subject, sr}, MakeCondition(t.condition));
  }
  return overlay;
}

Result<RequestUser> Store::ResolveUser(const GraphView& view, const std::string& user) const {
  ParsedUser p;
  if (!ParseUser(user, &p)) return errors::ValidationError("invalid 'user' field format");
  return ResolveParsedUser(view, p, Interner::MakeKey(p.object));
}

Result<RequestUser> Store::ResolveParsedUser(const GraphView& view, const ParsedUser& p,
                                             const Interner::Key& object) const {
  auto type = view.FindName(p.type);
  if (!type || !view.ts().HasType(*type)) return errors::TypeNotFound(p.type);
  RequestUser u;
  u.type = *type;
  u.wildcard = p.wildcard;
  if (!p.relation.empty()) {
    auto rel = view.FindName(p.relation);
    if (!rel || !view.ts().Find(*type, *rel)) return errors::RelationNotFound(p.relation, p.type);
    u.relation = *rel;
  }
  if (auto id = view.FindObject(object)) u.object = *id;
  if (!p.relation.empty() || !view.ts().AcceptsWildcardOf(*type)) return u;
  char buf[300];
  if (p.type.size() + 2 <= sizeof(buf)) {
    std::memcpy(buf, p.type.data(), p.type.size());
    buf[p.type.size()] = ':';
    buf[p.type.size() + 1] = '*';
    if (auto id = view.FindObject(std::string_view(buf, p.type.size() + 2))) {
      u.wildcard_object = *id;
    }
  }
  return u;
}

Result<bool> Store::CheckLocked(const TypeSystem& ts, const CheckRequest& request) const {
  // The object and the user are looked up among (possibly) millions of names: start both
  // lookups' memory loads now, so that their cache misses overlap each other and the validation.
  ParsedUser parsed_user;
  const bool user_parsed = ParseUser(request.user, &parsed_user);  // reported in order below
  const Interner::Key object_key = Interner::MakeKey(request.object);
  const Interner::Key user_key = Interner::MakeKey(parsed_user.object);
  objects_.Prefetch(object_key);
  objects_.Prefetch(user_key);
  std::string_view type, id;
  if (!SplitObject(request.object, &type, &id) || !IsValidObject(request.object)) {
    return errors::ValidationError("invalid 'object' field format");
  }
  objects_.PrefetchRecord(object_key);
  objects_.PrefetchRecord(user_key);
  auto type_id = names_.Find(type);
  if (!type_id || !ts.HasType(static_cast<uint16_t>(*type_id))) return errors::TypeNotFound(type);
  auto rel_id = names_.Find(request.relation);
  if (!rel_id || !ts.Find(static_cast<uint16_t>(*type_id), static_cast<uint16_t>(*rel_id))) {
    return errors::RelationNotFound(request.relation, type);
  }
  GH_ASSIGN_OR_RETURN(auto overlay, BuildOverlay(ts, request.contextual_tuples));
  GraphView view(ts, names_, objects_, object_info_, index_, overlay.get());
  if (!user_parsed) return errors::ValidationError("invalid 'user' field format");
  GH_ASSIGN_OR_RETURN(RequestUser user, ResolveParsedUser(view, parsed_user, user_key));
  auto object = view.FindObject(object_key);
  uint16_t relation = static_cast<uint16_t>(*rel_id);
  if (!object) {
    // No tuple mentions the object: only a userset asking about itself can hold.
    return user.relation == relation && request.user == request.object + "#" + request.relation;
  }
  RequestContext context = ToRequestContext(request.context);
  Checker checker(view, &context);
  return checker.Check(*object, static_cast<uint16_t>(*type_id), relation, user);
}

Result<bool> Store::Check(const CheckRequest& request) const {
  std::shared_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, ResolveModelLocked(request.model_id));
  return CheckLocked(*ts, request);
}

Result<std::vector<Result<bool>>> Store::BatchCheck(
    const std::vector<CheckRequest>& requests) const {
  if (requests.size() > limits_.max_checks_per_batch) {
    return errors::ValidationError("batchCheck received " + std::to_string(requests.size()) +
                                   " checks, the maximum allowed is " +
                                   std::to_string(limits_.max_checks_per_batch));
  }
  std::shared_lock lock(mu_);
  std::vector<Result<bool>> out;
  out.reserve(requests.size());
  for (const auto& r : requests) {
    auto ts = ResolveModelLocked(r.model_id);
    if (!ts.ok()) {
      out.push_back(ts.status());
      continue;
    }
    out.push_back(CheckLocked(**ts, r));
  }
  return out;
}

Result<ListObjectsResponse> Store::ListObjects(const ListObjectsRequest& request) const {
  GH_ASSIGN_OR_RETURN(std::string after, DecodeToken(request.continuation_token));
  std::shared_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, ResolveModelLocked(request.model_id));
  auto type_id = names_.Find(request.type);
  if (!type_id || !ts->HasType(static_cast<uint16_t>(*type_id))) {
    return errors::TypeNotFound(request.type);
  }
  auto rel_id = names_.Find(request.relation);
  if (!rel_id || !ts->Find(static_cast<uint16_t>(*type_id), static_cast<uint16_t>(*rel_id))) {
    return errors::RelationNotFound(request.relation, request.type);
  }
  GH_ASSIGN_OR_RETURN(auto overlay, BuildOverlay(*ts, request.contextual_tuples));
  GraphView view(*ts, names_, objects_, object_info_, index_, overlay.get());
  GH_ASSIGN_OR_RETURN(RequestUser user, ResolveUser(view, request.user));
  RequestContext context = ToRequestContext(request.context);
  GH_ASSIGN_OR_RETURN(auto ids, ListObjectIds(view, &context, static_cast<uint16_t>(*type_id),
                                              static_cast<uint16_t>(*rel_id), user));
  std::vector<std::string_view> names;
  names.reserve(ids.size());
  for (uint32_t id : ids) {
    std::string_view n = view.ObjectName(id);
    if (after.empty() || n > after) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  size_t page = request.page_size ? request.page_size : limits_.default_list_objects_page;
  ListObjectsResponse out;
  for (size_t i = 0; i < names.size() && i < page; ++i) out.objects.emplace_back(names[i]);
  if (names.size() > page) out.continuation_token = EncodeToken(names[page - 1]);
  return out;
}

Result<ListUsersResponse> Store::ListUsers(const ListUsersRequest& request) const {
  if (request.user_filters.size() != 1) {
    return errors::ValidationError(
        "invalid ListUsersRequest: user_filters must have exactly 1 item");
  }
  std::shared_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, ResolveModelLocked(request.model_id));
  std::string_view type, id;
  if (!SplitObject(request.object, &type, &id) || !IsValidObject(request.object)) {
    return errors::ValidationError("invalid 'object' field format");
  }
  auto type_id = names_.Find(type);
  if (!type_id || !ts->HasType(static_cast<uint16_t>(*type_id))) return errors::TypeNotFound(type);
  auto rel_id = names_.Find(request.relation);
  if (!rel_id || !ts->Find(static_cast<uint16_t>(*type_id), static_cast<uint16_t>(*rel_id))) {
    return errors::RelationNotFound(request.relation, type);
  }
  const UserTypeFilter& filter = request.user_filters[0];
  auto filter_type = names_.Find(filter.type);
  if (!filter_type || !ts->HasType(static_cast<uint16_t>(*filter_type))) {
    return errors::TypeNotFound(filter.type);
  }
  uint16_t filter_rel = 0;
  if (!filter.relation.empty()) {
    auto r = names_.Find(filter.relation);
    if (!r || !ts->Find(static_cast<uint16_t>(*filter_type), static_cast<uint16_t>(*r))) {
      return errors::RelationNotFound(filter.relation, filter.type);
    }
    filter_rel = static_cast<uint16_t>(*r);
  }
  GH_ASSIGN_OR_RETURN(auto overlay, BuildOverlay(*ts, request.contextual_tuples));
  GraphView view(*ts, names_, objects_, object_info_, index_, overlay.get());
  ListUsersResponse out;
  auto object = view.FindObject(request.object);
  if (!object) return out;
  RequestContext context = ToRequestContext(request.context);
  GH_ASSIGN_OR_RETURN(auto subjects,
                      ListUserSubjects(view, &context, *object, static_cast<uint16_t>(*rel_id),
                                       static_cast<uint16_t>(*filter_type), filter_rel));
  for (uint64_t s : subjects) out.users.push_back(view.SubjectName(s));
  std::sort(out.users.begin(), out.users.end());
  return out;
}

Result<bj::value> Store::Expand(const std::string& object, const std::string& relation,
                                const std::string& model_id) const {
  std::shared_lock lock(mu_);
  GH_ASSIGN_OR_RETURN(auto ts, ResolveModelLocked(model_id));
  std::string_view type, id;
  if (!SplitObject(object, &type, &id) || !IsValidObject(object)) {
    return errors::ValidationError("invalid 'object' field format");
  }
  auto type_id = names_.Find(type);
  if (!type_id || !ts->HasType(static_cast<uint16_t>(*type_id))) return errors::TypeNotFound(type);
  auto rel_id = names_.Find(relation);
  const RelationInfo* info =
      rel_id ? ts->Find(static_cast<uint16_t>(*type_id), static_cast<uint16_t>(*rel_id)) : nullptr;
  if (!info) return errors::RelationNotFound(relation, type);
  GraphView view(*ts, names_, objects_, object_info_, index_, nullptr);
  auto object_id = view.FindObject(object);
  std::string name = object + "#" + relation;
  std::function<bj::value(const CompiledRewrite&)> node = [&](const CompiledRewrite& n) {
    bj::object o;
    o["name"] = name;
    switch (n.kind) {
      case RewriteKind::kThis: {
        bj::array users;
        std::vector<std::string> subjects;
        if (object_id) {
          view.ForEachDirect(*object_id, info->relation, [&](uint64_t s, const TupleIndex&) {
            subjects.push_back(view.SubjectName(s));
          });
          view.ForEachUserset(*object_id, info->relation, [&](uint64_t s, const TupleIndex&) {
            subjects.push_back(view.SubjectName(s));
          });
        }
        std::sort(subjects.begin(), subjects.end());
        for (auto& s : subjects) users.emplace_back(s);
        o["leaf"] = bj::object{{"users", bj::object{{"users", std::move(users)}}}};
        break;
      }
      case RewriteKind::kComputed:
        o["leaf"] = bj::object{
            {"computed",
             bj::object{{"userset", object + "#" + std::string(view.Name(n.relation))}}}};
        break;
      case RewriteKind::kTupleToUserset: {
        bj::array computed;
        std::vector<std::string> parents;
        if (object_id) {
          view.ForEachDirect(*object_id, n.tupleset, [&](uint64_t s, const TupleIndex&) {
            parents.push_back(std::string(view.ObjectName(TupleIndex::SubjectObject(s))) + "#" +
                              std::string(view.Name(n.relation)));
          });
        }
        std::sort(parents.begin(), parents.end());
        for (auto& p : parents) computed.push_back(bj::object{{"userset", p}});
        o["leaf"] =
            bj::object{{"tupleToUserset",
                        bj::object{{"tupleset", object + "#" + std::string(view.Name(n.tupleset))},
                                   {"computed", std::move(computed)}}}};
        break;
      }
      case RewriteKind::kUnion:
      case RewriteKind::kIntersection: {
        bj::array nodes;
        for (const auto& c : n.children) nodes.push_back(node(c));
        o[n.kind == RewriteKind::kUnion ? "union" : "intersection"] =
            bj::object{{"nodes", std::move(nodes)}};
        break;
      }
      case RewriteKind::kDifference:
        o["difference"] =
            bj::object{{"base", node(n.children[0])}, {"subtract", node(n.children[1])}};
        break;
    }
    return bj::value(std::move(o));
  };
  return bj::value(bj::object{{"tree", bj::object{{"root", node(info->rewrite)}}}});
}

}  // namespace gh::authz
