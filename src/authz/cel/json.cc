#include "authz/cel/json.h"

#include <string>
#include <utility>
#include <vector>

namespace gh::authz::cel {

namespace bj = boost::json;

Value FromJson(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return Value();
    case bj::kind::bool_:
      return Value::FromBool(v.get_bool());
    case bj::kind::int64:
      return Value::FromInt(v.get_int64());
    case bj::kind::uint64:
      return Value::FromUint(v.get_uint64());
    case bj::kind::double_:
      return Value::FromDouble(v.get_double());
    case bj::kind::string:
      return Value::FromString(std::string(v.get_string()));
    case bj::kind::array: {
      std::vector<Value> items;
      for (const auto& x : v.get_array()) items.push_back(FromJson(x));
      return Value::FromList(std::move(items));
    }
    case bj::kind::object: {
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& kv : v.get_object())
        entries.emplace_back(Value::FromString(std::string(kv.key())), FromJson(kv.value()));
      return Value::FromMap(std::move(entries));
    }
  }
  return Value();
}

}  // namespace gh::authz::cel
