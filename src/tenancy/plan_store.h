// PlanStore: the running plan catalog. Plans come from the configuration, overlaid by plans an
// operator edited through the API or the CLI (stored in the database). Current() hands out an
// immutable snapshot; an edit swaps in a new one at once in this process, and other processes
// sharing the database pick it up within a second. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "storage/database.h"
#include "tenancy/plan.h"

namespace gh::tenancy {

class PlanStore {
 public:
  PlanStore(std::map<std::string, Plan> configured, storage::Database& db, const Clock& clock);
  Status Load();
  PlanCatalogPtr Current();
  // Creates or replaces a plan (validated by the caller with ApplyPlanJson).
  Status Put(const Plan& plan);

 private:
  Status Reload(int64_t version);

  std::map<std::string, Plan> configured_;
  storage::Database& db_;
  const Clock& clock_;
  std::mutex mu_;
  PlanCatalogPtr current_;
  int64_t version_ = -1;
  int64_t checked_at_ms_ = 0;
};

}  // namespace gh::tenancy
