#include "storage/database.h"

#include <fmt/format.h>

namespace gh::storage {

int64_t Row::Int(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* p = std::get_if<int64_t>(&v)) return *p;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
  return 0;
}

double Row::Double(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_.at(i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  return "";
}

std::optional<std::string> Row::OptText(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

Result<std::optional<Row>> Tx::QueryOne(std::string_view sql, const std::vector<Value>& params) {
  GH_ASSIGN_OR_RETURN(auto rows, Query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

Status Migrate(Database& db) {
  // Every transaction takes the migration lock first, so processes starting at once on one database
  // take turns. READ COMMITTED, so that each statement after the lock sees what the previous holder
  // committed (a serialisable transaction keeps the snapshot of its first statement: the lock).
  GH_RETURN_IF_ERROR(db.WriteReadCommitted([&](Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(db.LockForMigration(tx));
    auto r = tx.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "description TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    return r.ok() ? Status::Ok() : r.status();
  }));
  for (const Migration& m : Migrations()) {
    GH_RETURN_IF_ERROR(db.WriteReadCommitted([&](Tx& tx) -> Status {
      GH_RETURN_IF_ERROR(db.LockForMigration(tx));
      GH_ASSIGN_OR_RETURN(auto done,
                          tx.QueryOne("SELECT version FROM schema_migrations WHERE version = ?",
                                      {int64_t(m.version)}));
      if (done) return Status::Ok();
      size_t start = m.only && *m.only != db.dialect() ? m.sql.size() : 0;
      while (start < m.sql.size()) {
        size_t end = m.sql.find(';', start);
        if (end == std::string::npos) end = m.sql.size();
        std::string stmt = m.sql.substr(start, end - start);
        start = end + 1;
        if (stmt.find_first_not_of(" \t\r\n") == std::string::npos) continue;
        auto r = tx.Exec(stmt);
        if (!r.ok())
          return Status::Internal(fmt::format("migration {} ({}) failed: {}", m.version,
                                              m.description, r.status().message()));
      }
      auto r = tx.Exec(
          "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
          {int64_t(m.version), m.description, int64_t(time(nullptr))});
      return r.ok() ? Status::Ok() : r.status();
    }));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url_or_path,
                                               const DatabaseOptions& options) {
  auto starts_with = [&](std::string_view prefix) { return url_or_path.rfind(prefix, 0) == 0; };
  if (starts_with("postgres://") || starts_with("postgresql://")) {
    PostgresOptions o;
    o.url = url_or_path;
    if (options.pool_size > 0) o.pool_size = options.pool_size;
    return OpenPostgres(o);
  }
  SqliteOptions o;
  if (starts_with("sqlite:")) {
    o.path = url_or_path.substr(std::string_view("sqlite:").size());
    if (o.path.rfind("//", 0) == 0) o.path.erase(0, 2);  // sqlite:///abs/path, sqlite://rel/path
  } else if (url_or_path.find("://") != std::string::npos) {
    return Status::InvalidArgument(
        "unsupported database URL scheme (use postgresql://, sqlite: or a file path)");
  } else {
    o.path = url_or_path;
  }
  if (o.path.empty()) return Status::InvalidArgument("empty SQLite database path");
  if (options.pool_size > 0) o.pool_size = options.pool_size;
  return OpenSqlite(o);
}

}  // namespace gh::storage
