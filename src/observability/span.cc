#include "observability/span.h"

#include <boost/json.hpp>

namespace gh::observability {

std::string AttributesJson(const Span& span) {
  boost::json::object o;
  for (const auto& [key, value] : span.attributes)
    std::visit([&](const auto& v) { o[key] = v; }, value);
  return boost::json::serialize(o);
}

}  // namespace gh::observability
