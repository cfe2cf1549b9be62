// InstrumentedDatabase: a storage::Database that times every unit of work of the one it wraps and
// reports it to Metrics (storage latency by kind and outcome). Same contract and thread-safety as
// the wrapped database, which it owns.
#pragma once

#include <memory>

#include "observability/metrics.h"
#include "storage/database.h"

namespace gh::observability {

std::unique_ptr<storage::Database> InstrumentDatabase(std::unique_ptr<storage::Database> inner,
                                                      Metrics& metrics);

}  // namespace gh::observability
