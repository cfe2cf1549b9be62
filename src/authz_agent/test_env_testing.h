// Test-only: a tenant's world for the authz_agent tests — a fresh SQLite database, the tenants'
// stores, the document collection and the tool authorizer — and helpers to set up a model, tuples
// and documents.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "authz/model_validate.h"
#include "authz_agent/documents.h"
#include "authz_agent/tool_authorizer.h"
#include "authz_store/tenant_stores.h"
#include "storage/database.h"

namespace gh::authz_agent::testing {

inline constexpr const char* kDocumentModel = R"(model
  schema 1.1
type user
type group
  relations
    define member: [user]
type document
  relations
    define owner: [user]
    define viewer: [user, group#member] or owner
)";

inline constexpr const char* kToolGatingModel = R"(model
  schema 1.1
type user
type group
  relations
    define member: [user]
type tool
  relations
    define can_use: [user, user:*, group#member]
type document
  relations
    define viewer: [user, group#member]
)";

class AuthzAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-authz-agent-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    auto db = storage::OpenDatabase("sqlite:" + (dir_ / "db").string());
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    stores_ = std::make_unique<authz_store::TenantStores>(*db_, clock_, random_);
    documents_ = std::make_unique<DocumentCollection>(*db_, *stores_, clock_, random_);
    authorizer_ = std::make_unique<FgaToolAuthorizer>(*stores_, *db_, clock_, random_);
  }
  void TearDown() override {
    authorizer_.reset();
    documents_.reset();
    stores_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Creates the tenant's store with `dsl` as its model; returns the model id.
  std::string UseModel(const TenantId& tenant, const char* dsl) {
    auto store = stores_->CreateStore(tenant, "main");
    EXPECT_TRUE(store.ok()) << store.status().message();
    store_ = *store;
    auto model = authz::ModelFromDsl(dsl);
    EXPECT_TRUE(model.ok()) << model.status().message();
    auto id = store_->WriteAuthorizationModel(*model);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : "";
  }
  void Grant(std::vector<authz::TupleKey> tuples) {
    Status st = store_->Write(authz::WriteRequest{std::move(tuples), {}, ""});
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void AddDocument(const TenantId& tenant, std::string id, std::string title, std::string content) {
    auto put = documents_->Put(tenant, UserId("admin"),
                               {std::move(id), std::move(title), std::move(content)});
    ASSERT_TRUE(put.ok()) << put.status().message();
  }
  static authz::TupleKey T(std::string user, std::string relation, std::string object) {
    return {std::move(user), std::move(relation), std::move(object), std::nullopt};
  }
  static agent::TenantContext As(const TenantId& tenant, const std::string& user) {
    agent::TenantContext c;
    c.tenant_id = tenant;
    c.user_id = UserId(user);
    c.session_id = SessionId("session-1");
    c.trace_id = TraceId("trace-1");
    return c;
  }
  std::vector<storage::AuthzDecisionRow> Decisions(const TenantId& tenant) {
    std::vector<storage::AuthzDecisionRow> rows;
    EXPECT_TRUE(db_->Read([&](storage::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(rows, storage::authz_decisions::List(tx, tenant, {}));
                     return Status::Ok();
                   })
                    .ok());
    return rows;
  }

  const TenantId acme_{"acme"};
  const TenantId globex_{"globex"};
  std::filesystem::path dir_;
  FakeClock clock_;
  SeededRandom random_{3};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<authz_store::TenantStores> stores_;
  std::unique_ptr<DocumentCollection> documents_;
  std::unique_ptr<FgaToolAuthorizer> authorizer_;
  std::shared_ptr<authz::Store> store_;
};

}  // namespace gh::authz_agent::testing
