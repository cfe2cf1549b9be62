// Small helpers the repositories share to turn query results into records and parameters.
// Include only from repository .cc files (inside gh::storage).
#pragma once

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

}  // namespace gh::storage::row_mapping
