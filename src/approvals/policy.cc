#include "approvals/policy.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "authz/cel/json.h"
#include "authz/cel/program.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::approvals {

namespace bj = boost::json;
namespace cel = gh::authz::cel;

namespace {

void WriteCanonical(const bj::value& v, std::string& out) {
  switch (v.kind()) {
    case bj::kind::object: {
      const auto& o = v.get_object();
      std::vector<std::pair<std::string_view, const bj::value*>> items;
      for (const auto& [k, val] : o) items.emplace_back(k, &val);
      std::sort(items.begin(), items.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : items) {
        if (!first) out.push_back(',');
        first = false;
        out += bj::serialize(bj::value(bj::string(k)));
        out.push_back(':');
        WriteCanonical(*val, out);
      }
      out.push_back('}');
      return;
    }
    case bj::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        WriteCanonical(item, out);
      }
      out.push_back(']');
      return;
    }
    default:
      out += bj::serialize(v);
  }
}

std::string ValueText(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return bj::serialize(v);
}

}  // namespace

std::string CanonicalJson(const bj::value& v) {
  std::string out;
  WriteCanonical(v, out);
  return out;
}

std::string ArgumentsHash(const bj::object& arguments) {
  return crypto::Sha256Hex(CanonicalJson(bj::value(arguments)));
}

Result<Condition> Condition::Compile(std::string_view when) {
  Condition c;
  std::string_view w = Trim(when);
  if (w == "always") return c;
  if (w.empty() || w.size() > 1000)
    return Status::InvalidArgument(
        "'when' must be \"always\" or a condition of at most 1000 characters", "invalid_policy");
  auto program = cel::Program::Compile(
      w, {{"arguments", cel::Type::MapOf(cel::Type::Of(cel::Type::Kind::kDyn))}});
  if (!program.ok())
    return Status::InvalidArgument("'when' is not a valid condition: " + program.status().message(),
                                   "invalid_policy");
  c.program_ = *program;
  return c;
}

bool Condition::Requires(const bj::object& arguments) const {
  if (!program_) return true;
  cel::Value result =
      program_->Evaluate({std::optional<cel::Value>(cel::FromJson(bj::value(arguments)))});
  if (result.kind() != cel::Kind::kBool) return true;  // an error or unknown: ask
  return result.as_bool();
}

Result<Condition> CompileCached(std::string_view when) {
  static std::mutex mu;
  static std::map<std::string, Condition, std::less<>> cache;
  {
    std::lock_guard lock(mu);
    auto it = cache.find(when);
    if (it != cache.end()) return it->second;
  }
  GH_ASSIGN_OR_RETURN(Condition c, Condition::Compile(when));
  std::lock_guard lock(mu);
  if (cache.size() > 1000) cache.clear();
  cache.emplace(std::string(when), c);
  return c;
}

std::string RenderBindingMessage(std::string_view tmpl, std::string_view tool,
                                 const bj::object& arguments, size_t max_len) {
  std::string out;
  if (Trim(tmpl).empty()) {
    out = "Allow " + std::string(tool);
    std::string args;
    for (const auto& [k, v] : arguments) {
      args += args.empty() ? ": " : ", ";
      args += std::string(k) + "=" + ValueText(v);
    }
    out += args + "?";
  } else {
    for (size_t i = 0; i < tmpl.size();) {
      if (tmpl[i] == '{') {
        size_t close = tmpl.find('}', i);
        if (close != std::string_view::npos) {
          std::string_view name = tmpl.substr(i + 1, close - i - 1);
          if (name == "tool") {
            out += tool;
            i = close + 1;
            continue;
          }
          if (name.substr(0, 10) == "arguments.") {
            const bj::value* v = arguments.if_contains(name.substr(10));
            out += v ? ValueText(*v) : "";
            i = close + 1;
            continue;
          }
        }
      }
      out.push_back(tmpl[i++]);
    }
  }
  std::string clean;
  for (unsigned char c : out) clean.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  if (clean.size() > max_len) {
    clean = clean.substr(0, Utf8CutPoint(clean, max_len - 1)) + "…";
  }
  return clean;
}

}  // namespace gh::approvals
