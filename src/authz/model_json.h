// Model <-> OpenFGA JSON (the AuthorizationModel shape of the OpenFGA API: "schema_version",
// "type_definitions", "conditions", per-type "metadata"). Reading accepts both the proto JSON
// names ("typeDefinitions", "computedUserset") and the snake_case names; writing uses the names
// OpenFGA's API returns. Reading never throws: malformed input gives an InvalidArgument with a
// message naming the field. Pure functions.
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "authz/model.h"
#include "common/status.h"

namespace gh::authz {

boost::json::value ModelToJson(const Model& model);
std::string ModelToJsonString(const Model& model);

Result<Model> ModelFromJson(const boost::json::value& json);
Result<Model> ModelFromJsonString(std::string_view text);

// Removes the parts that OpenFGA's JSON treats as absent (null, empty arrays, empty objects other
// than `this` and `wildcard`) so that two models can be compared as JSON values.
boost::json::value NormalizeModelJson(const boost::json::value& json);

}  // namespace gh::authz
