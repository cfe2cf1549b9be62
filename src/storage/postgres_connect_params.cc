#include "storage/postgres_connect_params.h"

namespace gh::storage {

PgConnectParams::PgConnectParams(const PostgresOptions& options)
    : connect_timeout_(std::to_string(options.connect_timeout_seconds)), url_(options.url) {
  // TCP keepalives (30 s idle, then 3 probes 10 s apart): a connection the network dropped
  // without a word — the change listener's, waiting in poll() — is found broken in about a
  // minute, not after the system's two hours. (Unix sockets ignore them.)
  keys_ = {"connect_timeout", "application_name",    "keepalives",
           "keepalives_idle", "keepalives_interval", "keepalives_count",
           "dbname",          "client_encoding",     nullptr};
  values_ = {
      connect_timeout_.c_str(), "gatehouse", "1", "30", "10", "3", url_.c_str(), "UTF8", nullptr};
}

}  // namespace gh::storage
