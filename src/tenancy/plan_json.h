// Plans as JSON: the shape the API shows and accepts, and the stored form of edited plans.
// Field names match the configuration file (plans.<name>.<field>).
#pragma once

#include <boost/json/object.hpp>

#include "common/status.h"
#include "tenancy/plan.h"

namespace gh::tenancy {

boost::json::object PlanToJson(const Plan& plan);
// Applies the fields present in `fields` onto `plan` (absent fields keep their value; null clears
// an optional limit). Validates every field and names the first bad one.
Status ApplyPlanJson(const boost::json::object& fields, Plan& plan);

}  // namespace gh::tenancy
