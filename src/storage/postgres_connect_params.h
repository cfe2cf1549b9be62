// PgConnectParams: the connection parameters of every connection the PostgreSQL backend opens —
// the pool's (a blocking PQconnectdbParams) and the change listener's (PQconnectStartParams, so
// that stopping can interrupt it) — built once from PostgresOptions, for libpq's *Params
// functions with expand_dbname = 1: our defaults first, then the URL (which may override them),
// then what the backend relies on.
//
// Internal to the storage module (and its tests). Immutable once built, so threads may share it
// (through a shared_ptr: a change listener keeps it alive on its own). Neither copyable nor
// movable: keys() and values() point into it.
#pragma once

#include <string>
#include <vector>

#include "storage/database.h"

namespace gh::storage {

class PgConnectParams {
 public:
  explicit PgConnectParams(const PostgresOptions& options);
  PgConnectParams(const PgConnectParams&) = delete;
  PgConnectParams& operator=(const PgConnectParams&) = delete;

  // Null-terminated arrays of the same length.
  const char* const* keys() const { return keys_.data(); }
  const char* const* values() const { return values_.data(); }

 private:
  const std::string connect_timeout_;
  const std::string url_;
  std::vector<const char*> keys_;
  std::vector<const char*> values_;
};

}  // namespace gh::storage
