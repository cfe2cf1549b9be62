// Small helpers the repositories share to turn query results into records and parameters.
// Include only from repository .cc files (inside gh::storage).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace gh::storage::row_mapping {

// An Exec whose row count does not matter.
inline Status Done(const Result<int64_t>& r) { return r.ok() ? Status::Ok() : r.status(); }

// At most one row, mapped.
template <typename T, typename F>
Result<std::optional<T>> One(Result<std::optional<Row>> row, F map) {
  if (!row.ok()) return std::move(row).status();
  if (!*row) return std::optional<T>();
  return std::optional<T>(map(**row));
}

// Every row, mapped.
template <typename T, typename F>
Result<std::vector<T>> Many(Result<std::vector<Row>> rows, F map) {
  if (!rows.ok()) return std::move(rows).status();
  std::vector<T> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(map(r));
  return out;
}

// An optional value as a parameter (NULL when absent).
inline Value Opt(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }
inline Value Opt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }

// "(?, ?, ?), (?, ?, ?)": `rows` groups of `cols` placeholders.
inline std::string Placeholders(size_t rows, size_t cols) {
  std::string one = "(";
  for (size_t c = 0; c < cols; ++c) one += c ? ", ?" : "?";
  one += ")";
  std::string out;
  out.reserve(rows * (one.size() + 2));
  for (size_t r = 0; r < rows; ++r) {
    if (r) out += ", ";
    out += one;
  }
  return out;
}

// Runs `sql_prefix VALUES (...), (...) sql_suffix` over rows in chunks (bounded statement size;
// SQLite caps the number of parameters).
template <typename T, typename Bind>
Status InsertChunked(Tx& tx, const std::string& sql_prefix, const std::string& sql_suffix,
                     size_t cols, const std::vector<T>& rows, Bind bind, size_t chunk = 100) {
  std::vector<Value> params;
  for (size_t i = 0; i < rows.size(); i += chunk) {
    const size_t n = std::min(chunk, rows.size() - i);
    params.clear();
    params.reserve(n * cols);
    for (size_t j = 0; j < n; ++j) bind(rows[i + j], params);
    GH_RETURN_IF_ERROR(
        Done(tx.Exec(sql_prefix + " VALUES " + Placeholders(n, cols) + sql_suffix, params)));
  }
  return Status::Ok();
}

}  // namespace gh::storage::row_mapping
