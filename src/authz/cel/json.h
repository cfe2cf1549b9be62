// JSON → CEL values, as OpenFGA hands request and tuple context to a condition (numbers keep their
// JSON kind: int64, uint64 or double; objects become maps with string keys).
#pragma once

#include <boost/json/value.hpp>

#include "authz/cel/value.h"

namespace gh::authz::cel {

Value FromJson(const boost::json::value& v);

}  // namespace gh::authz::cel
