#include "authz/store.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <filesystem>

#include "authz/memory_persistence.h"
#include "authz/model_validate.h"
#include "authz/store_registry.h"

namespace gh::authz {
namespace {

namespace bj = boost::json;

constexpr const char* kModel = R"(model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define parent: [folder]
    define owner: [user]
    define viewer: [user, user:*, group#member] or owner or viewer from parent
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define blocked: [user]
    define allowed: [user]
    define editor: [user with in_office] or owner
    define viewer: [user, user:*, group#member] or editor or viewer from parent
    define can_view: viewer but not blocked
    define can_edit: editor and allowed
condition in_office(ip: ipaddress, office: string) {
  ip.in_cidr(office)
}
)";

TupleKey T(std::string user, std::string relation, std::string object) {
  return TupleKey{std::move(user), std::move(relation), std::move(object), std::nullopt};
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : store_(StoreRecord{"store1", "s", 0, 0}, &persistence_, clock_, random_) {
    EXPECT_TRUE(persistence_.CreateStore(store_.record()).ok());
    auto model = ModelFromDsl(kModel);
    EXPECT_TRUE(model.ok()) << model.status().message();
    auto id = store_.WriteAuthorizationModel(*model);
    EXPECT_TRUE(id.ok()) << id.status().message();
    model_id_ = id.ok() ? *id : "";
  }

  bool Check(const std::string& user, const std::string& relation, const std::string& object,
             bj::object context = {}) {
    auto r = store_.Check(CheckRequest{user, relation, object, {}, std::move(context), ""});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }
  void Write(std::vector<TupleKey> writes) {
    Status s = store_.Write(WriteRequest{std::move(writes), {}, ""});
    ASSERT_TRUE(s.ok()) << s.message();
  }

  FakeClock clock_;
  SeededRandom random_{7};
  MemoryPersistence persistence_;
  Store store_;
  std::string model_id_;
};

TEST_F(StoreTest, ModelIdsAreUlids) {
  EXPECT_EQ(model_id_.size(), 26u);
  EXPECT_TRUE(store_.ResolveModel(model_id_).ok());
  EXPECT_EQ(store_.ResolveModel("nope").status().error_code(), "authorization_model_not_found");
}

TEST_F(StoreTest, CheckFollowsDirectWildcardUsersetComputedAndTupleToUserset) {
  Write({T("user:anne", "member", "group:eng"), T("group:eng#member", "member", "group:all"),
         T("group:all#member", "viewer", "folder:root"), T("folder:root", "parent", "folder:sub"),
         T("folder:sub", "parent", "doc:1"), T("user:bob", "owner", "doc:2"),
         T("user:*", "viewer", "doc:3")});
  EXPECT_TRUE(Check("user:anne", "viewer", "doc:1"));  // group nesting + two parents
  EXPECT_FALSE(Check("user:bob", "viewer", "doc:1"));
  EXPECT_TRUE(Check("user:bob", "viewer", "doc:2"));  // owner -> editor -> viewer
  EXPECT_TRUE(Check("user:zed", "viewer", "doc:3"));  // wildcard, unseen user
  EXPECT_TRUE(Check("user:*", "viewer", "doc:3"));
  EXPECT_TRUE(Check("group:eng#member", "member", "group:all"));
  EXPECT_TRUE(Check("group:eng#member", "member", "group:eng"));  // a userset contains itself
}

TEST_F(StoreTest, IntersectionAndExclusionNeedEveryBranch) {
  Write({T("user:anne", "viewer", "doc:1"), T("user:anne", "blocked", "doc:1"),
         T("user:bob", "viewer", "doc:1"), T("user:bob", "owner", "doc:1"),
         T("user:bob", "allowed", "doc:1"), T("user:cat", "owner", "doc:1")});
  EXPECT_FALSE(Check("user:anne", "can_view", "doc:1"));
  EXPECT_TRUE(Check("user:bob", "can_view", "doc:1"));
  EXPECT_TRUE(Check("user:bob", "can_edit", "doc:1"));
  EXPECT_FALSE(Check("user:cat", "can_edit", "doc:1"));
}

TEST_F(StoreTest, ConditionsUseTupleAndRequestContextAndMissingContextIsAnError) {
  TupleKey t = T("user:anne", "editor", "doc:1");
  t.condition = TupleCondition{"in_office", bj::object{{"office", "10.0.0.0/8"}}};
  Write({t});
  EXPECT_TRUE(Check("user:anne", "editor", "doc:1", bj::object{{"ip", "10.1.2.3"}}));
  EXPECT_FALSE(Check("user:anne", "editor", "doc:1", bj::object{{"ip", "192.168.0.1"}}));
  auto missing = store_.Check(CheckRequest{"user:anne", "editor", "doc:1", {}, {}, ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().error_code(), "validation_error");
  EXPECT_NE(missing.status().message().find("missing context parameters"), std::string::npos);
  // Another branch that allows hides the error, as in OpenFGA.
  Write({T("user:anne", "owner", "doc:1")});
  EXPECT_TRUE(Check("user:anne", "editor", "doc:1"));
}

TEST_F(StoreTest, WritesAreAllOrNothingWithOpenFgaErrors) {
  Write({T("user:anne", "viewer", "doc:1")});
  Status dup = store_.Write(
      WriteRequest{{T("user:bob", "viewer", "doc:1"), T("user:anne", "viewer", "doc:1")}, {}, ""});
  EXPECT_EQ(dup.error_code(), "write_failed_due_to_invalid_input");
  EXPECT_FALSE(Check("user:bob", "viewer", "doc:1"));  // nothing of the batch was applied
  Status del = store_.Write(WriteRequest{{}, {T("user:bob", "viewer", "doc:1")}, ""});
  EXPECT_EQ(del.error_code(), "write_failed_due_to_invalid_input");
  Status twice = store_.Write(
      WriteRequest{{T("user:bob", "viewer", "doc:1"), T("user:bob", "viewer", "doc:1")}, {}, ""});
  EXPECT_EQ(twice.error_code(), "cannot_allow_duplicate_tuples_in_one_request");
  EXPECT_EQ(store_.Write(WriteRequest{{T("user:bob", "parent", "doc:1")}, {}, ""}).error_code(),
            "invalid_tuple");
  EXPECT_EQ(store_.Write(WriteRequest{{T("user:bob", "viewer", "nope:1")}, {}, ""}).error_code(),
            "type_not_found");
  EXPECT_EQ(store_.Write(WriteRequest{{T("user:bob", "nope", "doc:1")}, {}, ""}).error_code(),
            "relation_not_found");
  // A write and a delete in one transaction.
  ASSERT_TRUE(store_
                  .Write(WriteRequest{
                      {T("user:bob", "viewer", "doc:1")}, {T("user:anne", "viewer", "doc:1")}, ""})
                  .ok());
  EXPECT_TRUE(Check("user:bob", "viewer", "doc:1"));
  EXPECT_FALSE(Check("user:anne", "viewer", "doc:1"));
  EXPECT_EQ(store_.Write(WriteRequest{}).error_code(), "validation_error");
}

TEST_F(StoreTest, IgnoreOptionsSkipDuplicateWritesAndMissingDeletesButNotConditionChanges) {
  Write({T("user:anne", "viewer", "doc:1")});
  WriteRequest again{{T("user:anne", "viewer", "doc:1"), T("user:bob", "viewer", "doc:1")},
                     {T("user:carl", "viewer", "doc:1")},
                     ""};
  EXPECT_EQ(store_.Write(again).error_code(), "write_failed_due_to_invalid_input");
  again.ignore_duplicate_writes = true;
  EXPECT_EQ(store_.Write(again).error_code(), "write_failed_due_to_invalid_input");  // carl
  again.ignore_missing_deletes = true;
  Status ignored = store_.Write(again);
  ASSERT_TRUE(ignored.ok()) << ignored.message();
  EXPECT_TRUE(Check("user:bob", "viewer", "doc:1"));
  EXPECT_EQ(store_.TupleCount(), 2u);
  // Only the new write reached the change log.
  auto changes = persistence_.ReadChanges("store1", "", 10, "");
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->changes.size(), 2u);
  // The same key with another condition is not a duplicate to ignore.
  TupleKey conditional = T("user:anne", "editor", "doc:1");
  conditional.condition = TupleCondition{"in_office", {{"office", "10.0.0.0/8"}}};
  Write({conditional});
  WriteRequest same{{conditional}, {}, ""};
  same.ignore_duplicate_writes = true;
  EXPECT_TRUE(store_.Write(same).ok());
  conditional.condition->context["office"] = "192.168.0.0/16";
  WriteRequest changed{{conditional}, {}, ""};
  changed.ignore_duplicate_writes = true;
  EXPECT_EQ(store_.Write(changed).error_code(), "write_failed_due_to_invalid_input");
}

TEST_F(StoreTest, AFailedPersistenceWriteLeavesTheStoreUnchanged) {
  persistence_.FailNextCall();
  Status s = store_.Write(WriteRequest{{T("user:anne", "viewer", "doc:1")}, {}, ""});
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(Check("user:anne", "viewer", "doc:1"));
  EXPECT_EQ(store_.TupleCount(), 0u);
}

TEST_F(StoreTest, TheChangeLogRecordsWritesAndDeletesInOrderWithContinuation) {
  Write({T("user:anne", "viewer", "doc:1"), T("user:bob", "viewer", "folder:1")});
  ASSERT_TRUE(store_.Write(WriteRequest{{}, {T("user:anne", "viewer", "doc:1")}, ""}).ok());
  auto page = persistence_.ReadChanges("store1", "", 2, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->changes.size(), 2u);
  EXPECT_EQ(page->changes[0].operation, TupleOperation::kWrite);
  auto next = persistence_.ReadChanges("store1", "", 2, page->continuation_token);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->changes.size(), 1u);
  EXPECT_EQ(next->changes[0].operation, TupleOperation::kDelete);
  auto docs = persistence_.ReadChanges("store1", "doc", 10, "");
  EXPECT_EQ(docs->changes.size(), 2u);
}

TEST_F(StoreTest, ListObjectsIsCompleteAndPaginatesWithAContinuationToken) {
  std::vector<TupleKey> batch;
  for (int i = 0; i < 1500; ++i) {
    batch.push_back(T("user:anne", "viewer", "doc:" + std::to_string(i)));
    if (batch.size() == 100) {
      Write(batch);
      batch.clear();
    }
  }
  Write({T("user:anne", "blocked", "doc:7")});
  ListObjectsRequest req{"user:anne", "can_view", "doc", {}, {}, "", 1000, ""};
  auto first = store_.ListObjects(req);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->objects.size(), 1000u);
  ASSERT_FALSE(first->continuation_token.empty());
  req.continuation_token = first->continuation_token;
  auto second = store_.ListObjects(req);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->objects.size(), 499u);  // doc:7 is excluded
  EXPECT_TRUE(second->continuation_token.empty());
  req.continuation_token = "!!";
  EXPECT_EQ(store_.ListObjects(req).status().error_code(), "invalid_continuation_token");
}

TEST_F(StoreTest, ListUsersReturnsObjectsWildcardsAndUsersets) {
  Write({T("user:anne", "viewer", "folder:1"), T("user:*", "viewer", "folder:1"),
         T("group:eng#member", "viewer", "folder:1"), T("user:bob", "member", "group:eng")});
  auto users = store_.ListUsers(ListUsersRequest{"folder:1", "viewer", {{"user", ""}}, {}, {}, ""});
  ASSERT_TRUE(users.ok()) << users.status().message();
  EXPECT_EQ(users->users, (std::vector<std::string>{"user:*", "user:anne", "user:bob"}));
  auto sets =
      store_.ListUsers(ListUsersRequest{"folder:1", "viewer", {{"group", "member"}}, {}, {}, ""});
  ASSERT_TRUE(sets.ok());
  EXPECT_EQ(sets->users, (std::vector<std::string>{"group:eng#member"}));
}

TEST_F(StoreTest, ContextualTuplesCountForOneRequestOnly) {
  CheckRequest req{"user:anne", "viewer", "doc:9", {T("user:anne", "viewer", "doc:9")}, {}, ""};
  auto r = store_.Check(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(*r);
  EXPECT_FALSE(Check("user:anne", "viewer", "doc:9"));
  req.contextual_tuples = {T("user:anne", "parent", "doc:9")};
  EXPECT_EQ(store_.Check(req).status().error_code(), "invalid_tuple");
}

TEST_F(StoreTest, CyclesResolveToFalseAndDeepChainsHitTheDepthLimit) {
  Write({T("folder:a", "parent", "folder:b"), T("folder:b", "parent", "folder:a")});
  EXPECT_FALSE(Check("user:anne", "viewer", "folder:a"));
  std::vector<TupleKey> chain;
  for (int i = 0; i < 40; ++i) {
    chain.push_back(
        T("group:g" + std::to_string(i + 1) + "#member", "member", "group:g" + std::to_string(i)));
  }
  Write(chain);
  Write({T("user:deep", "member", "group:g40")});
  auto r = store_.Check(CheckRequest{"user:deep", "member", "group:g0", {}, {}, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "authorization_model_resolution_too_complex");
  EXPECT_TRUE(Check("user:deep", "member", "group:g30"));
}

TEST_F(StoreTest, RequestsValidateTypesRelationsAndUsers) {
  auto check = [&](std::string user, std::string rel, std::string obj) {
    return store_.Check(CheckRequest{user, rel, obj, {}, {}, ""}).status().error_code();
  };
  EXPECT_EQ(check("user:anne", "viewer", "nope:1"), "type_not_found");
  EXPECT_EQ(check("user:anne", "nope", "doc:1"), "relation_not_found");
  EXPECT_EQ(check("bad", "viewer", "doc:1"), "validation_error");
  EXPECT_EQ(check("user:anne", "viewer", "doc"), "validation_error");
}

TEST_F(StoreTest, ARequestMayPinAnOlderModelVersion) {
  auto v2 = ModelFromDsl(
      "model\n  schema 1.1\ntype user\ntype doc\n  relations\n"
      "    define viewer: [user]\n    define reader: viewer\n");
  ASSERT_TRUE(v2.ok());
  auto id2 = store_.WriteAuthorizationModel(*v2);
  ASSERT_TRUE(id2.ok());
  Write({T("user:anne", "viewer", "doc:1")});
  EXPECT_TRUE(store_.Check(CheckRequest{"user:anne", "reader", "doc:1", {}, {}, ""}).ok());
  EXPECT_EQ(store_.Check(CheckRequest{"user:anne", "reader", "doc:1", {}, {}, model_id_})
                .status()
                .error_code(),
            "relation_not_found");
  EXPECT_EQ(store_.Models().size(), 2u);
}

TEST_F(StoreTest, ReadFiltersAndPaginates) {
  Write({T("user:anne", "viewer", "doc:1"), T("user:bob", "viewer", "doc:1"),
         T("user:anne", "owner", "doc:2"), T("user:anne", "viewer", "folder:1")});
  auto all = store_.Read(ReadRequest{"", "", "", 2, ""});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->tuples.size(), 2u);
  EXPECT_FALSE(all->continuation_token.empty());
  auto rest = store_.Read(ReadRequest{"", "", "", 10, all->continuation_token});
  EXPECT_EQ(rest->tuples.size(), 2u);
  auto by_object = store_.Read(ReadRequest{"doc:1", "", "", 0, ""});
  EXPECT_EQ(by_object->tuples.size(), 2u);
  auto by_type_user = store_.Read(ReadRequest{"doc:", "", "user:anne", 0, ""});
  EXPECT_EQ(by_type_user->tuples.size(), 2u);
}

TEST_F(StoreTest, ExpandReturnsOpenFgasUsersetTree) {
  Write({T("user:anne", "viewer", "doc:1"), T("folder:1", "parent", "doc:1")});
  auto tree = store_.Expand("doc:1", "viewer");
  ASSERT_TRUE(tree.ok());
  const auto& root = tree->at("tree").at("root");
  EXPECT_EQ(root.at("name").as_string(), "doc:1#viewer");
  const auto& nodes = root.at("union").at("nodes").as_array();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].at("leaf").at("users").at("users").at(0).as_string(), "user:anne");
  EXPECT_EQ(nodes[1].at("leaf").at("computed").at("userset").as_string(), "doc:1#editor");
  EXPECT_EQ(nodes[2].at("leaf").at("tupleToUserset").at("computed").at(0).at("userset").as_string(),
            "folder:1#viewer");
}

TEST(StoreRegistryTest, StoresSurviveARestartThroughPersistence) {
  FakeClock clock;
  SeededRandom random(3);
  MemoryPersistence persistence;
  std::string store_id;
  {
    StoreRegistry registry(&persistence, clock, random);
    auto store = registry.CreateStore("tenant-a");
    ASSERT_TRUE(store.ok());
    store_id = (*store)->record().id;
    auto model = ModelFromDsl(kModel);
    ASSERT_TRUE((*store)->WriteAuthorizationModel(*model).ok());
    ASSERT_TRUE((*store)->Write(WriteRequest{{T("user:anne", "viewer", "doc:1")}, {}, ""}).ok());
  }
  StoreRegistry restarted(&persistence, clock, random);
  ASSERT_TRUE(restarted.LoadFromPersistence().ok());
  auto store = restarted.GetStore(store_id);
  ASSERT_TRUE(store.ok());
  auto allowed = (*store)->Check(CheckRequest{"user:anne", "viewer", "doc:1", {}, {}, ""});
  ASSERT_TRUE(allowed.ok()) << allowed.status().message();
  EXPECT_TRUE(*allowed);
  EXPECT_EQ(restarted.GetStore("missing").status().error_code(), "store_id_not_found");
  EXPECT_TRUE(restarted.DeleteStore(store_id).ok());
  EXPECT_TRUE(restarted.ListStores().empty());
}

TEST(TupleTest, ObjectIdsFollowTheSharedValidationCases) {
  auto path = std::filesystem::path(GH_SHARED_TESTDATA) / "openfga" / "language-tests" /
              "object-id-validation-cases.yaml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared test data not found";
  YAML::Node cases = YAML::LoadFile(path.string());
  for (const auto& c : cases) {
    EXPECT_EQ(IsValidObjectId(c["object_id"].as<std::string>()), c["valid"].as<bool>())
        << c["name"].as<std::string>();
  }
}

}  // namespace
}  // namespace gh::authz
