#include "models/offline_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::models {

namespace bj = boost::json;
namespace net = boost::asio;
using namespace agent;

bool IsWeatherQuestion(std::string_view text) {
  std::string t = ToLower(text);
  for (const char* w : {"weather", "temperature", "forecast", "raining", "rain ", "sunny", "snow",
                        "wind ", "humid"})
    if (t.find(w) != std::string::npos) return true;
  return false;
}

std::string ExtractLocation(std::string_view text) {
  std::string t(text);
  std::string lower = ToLower(t);
  for (const char* marker : {" in ", " for ", " at "}) {
    size_t pos = lower.rfind(marker);
    if (pos == std::string::npos) continue;
    std::string rest = t.substr(pos + std::string_view(marker).size());
    std::string out;
    for (char c : rest) {
      if (std::isalpha(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '\'' ||
          static_cast<unsigned char>(c) >= 0x80)
        out.push_back(c);
      else
        break;
    }
    std::string_view trimmed = Trim(out);
    for (const char* tail : {" today", " tomorrow", " now", " right now", " this week"}) {
      std::string tl = ToLower(trimmed);
      if (tl.size() > std::strlen(tail) && tl.ends_with(tail))
        trimmed.remove_suffix(std::strlen(tail));
    }
    if (!trimmed.empty() && trimmed.size() <= 60) {
      std::string loc(trimmed);
      loc[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(loc[0])));
      return loc;
    }
  }
  return "London";
}

std::optional<DocumentRequest> ParseDocumentRequest(std::string_view text) {
  std::string_view trimmed = Trim(text);
  std::string lower = ToLower(trimmed);
  auto strip = [](std::string_view s) {
    s = Trim(s);
    while (!s.empty() && (s.back() == '?' || s.back() == '.' || s.back() == '!'))
      s.remove_suffix(1);
    return std::string(Trim(s));
  };
  for (const char* prefix :
       {"search documents for ", "search documents about ", "find documents about ",
        "find documents for ", "search the documents for "}) {
    if (lower.starts_with(prefix)) {
      std::string query = strip(trimmed.substr(std::strlen(prefix)));
      if (!query.empty()) return DocumentRequest{"search", query};
    }
  }
  for (const char* prefix : {"read document ", "read the document "}) {
    if (lower.starts_with(prefix)) {
      std::string_view rest = Trim(trimmed.substr(std::strlen(prefix)));
      std::string id = strip(rest.substr(0, rest.find(' ')));
      if (!id.empty()) return DocumentRequest{"read", id};
    }
  }
  return std::nullopt;
}

namespace {

const ChatMessage* LastUser(const ModelRequest& r) {
  for (auto it = r.messages.rbegin(); it != r.messages.rend(); ++it)
    if (it->role == Role::kUser) return &*it;
  return nullptr;
}

bool Offers(const ModelRequest& r, std::string_view tool) {
  for (const auto& t : r.tools)
    if (t.name == tool) return true;
  return false;
}

std::string AnswerFromDocumentTool(const ChatMessage& tool_msg) {
  boost::system::error_code ec;
  bj::value v = bj::parse(tool_msg.content, ec);
  if (ec || !v.is_object()) return "The document tool answered something I could not read.";
  const auto& o = v.get_object();
  auto text = [](const bj::object& x, const char* k) -> std::string {
    auto* f = x.if_contains(k);
    return f && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  if (auto* e = o.if_contains("error"); e && e->is_string()) {
    if (e->get_string() == "not authorized")
      return tool_msg.tool_name == "read_document" ? "I'm not authorized to read that document."
                                                   : "I'm not authorized to do that.";
    return fmt::format("I could not use the documents: {}.", std::string_view(e->get_string()));
  }
  if (tool_msg.tool_name == "read_document") {
    std::string content = text(o, "content");
    if (content.size() > 600) content = content.substr(0, 600) + "...";
    return fmt::format("\"{}\": {}", text(o, "title"), content);
  }
  std::vector<std::string> titles;
  if (auto* r = o.if_contains("results"); r && r->is_array())
    for (const auto& hit : r->get_array())
      if (hit.is_object()) titles.push_back("\"" + text(hit.get_object(), "title") + "\"");
  if (titles.empty())
    return fmt::format("I found no documents about \"{}\" that you can see.", text(o, "query"));
  return fmt::format("I found {} document{} about \"{}\": {}.", titles.size(),
                     titles.size() == 1 ? "" : "s", text(o, "query"), fmt::join(titles, ", "));
}

std::string AnswerFromToolResult(const ChatMessage& tool_msg) {
  if (tool_msg.tool_name == "search_documents" || tool_msg.tool_name == "read_document")
    return AnswerFromDocumentTool(tool_msg);
  boost::system::error_code ec;
  bj::value v = bj::parse(tool_msg.content, ec);
  if (ec || !v.is_object()) return "The weather service answered something I could not read.";
  const auto& o = v.get_object();
  if (auto* e = o.if_contains("error"); e && e->is_string())
    return fmt::format("I could not get the weather: {}.", std::string_view(e->get_string()));
  auto str = [&](const char* k) -> std::string {
    auto* x = o.if_contains(k);
    if (!x) return "";
    if (x->is_string()) return std::string(x->get_string());
    if (x->is_number()) return fmt::format("{:.0f}", x->to_number<double>());
    return "";
  };
  bool simulated =
      o.contains("simulated") && o.at("simulated").is_bool() && o.at("simulated").get_bool();
  std::string answer =
      fmt::format("The weather in {} is {} at {}°C (feels like {}°C), humidity {}%, wind {} km/h.",
                  str("location"), str("conditions"), str("temperature_c"), str("feels_like_c"),
                  str("humidity_pct"), str("wind_kph"));
  if (auto* f = o.if_contains("forecast"); f && f->is_array() && !f->get_array().empty()) {
    answer += " Forecast:";
    for (const auto& day : f->get_array()) {
      if (!day.is_object()) continue;
      const auto& d = day.get_object();
      auto g = [&](const char* k) -> std::string {
        auto* x = d.if_contains(k);
        if (!x) return "";
        if (x->is_string()) return std::string(x->get_string());
        if (x->is_number()) return fmt::format("{:.0f}", x->to_number<double>());
        return "";
      };
      answer +=
          fmt::format(" {}: {}, {}–{}°C;", g("date"), g("conditions"), g("low_c"), g("high_c"));
    }
    answer.back() = '.';
  }
  if (simulated) answer += " (This is simulated data: set OPENWEATHER_API_KEY for live weather.)";
  return answer;
}

// Where the first of the stop sequences to occur in `text` begins, if one does.
std::optional<size_t> FirstStopSequence(std::string_view text,
                                        const std::vector<std::string>& stop) {
  std::optional<size_t> first;
  for (const std::string& s : stop) {
    if (s.empty()) continue;
    const size_t at = text.find(s);
    if (at != std::string_view::npos && (!first || at < *first)) first = at;
  }
  return first;
}

// ---- response_format: the usual answer, as JSON of the asked shape ----

// Properties whose string value is the answer itself; others get a placeholder.
bool IsAnswerLike(std::string_view property) {
  const std::string p = ToLower(property);
  for (const char* w : {"answer", "summary", "text", "content", "reply", "response", "message"})
    if (p.find(w) != std::string::npos) return true;
  return false;
}

// A schema's type: its `type` (the first non-null one of a list), else what its keywords imply.
std::string TypeOf(const bj::object& schema) {
  if (const bj::value* t = schema.if_contains("type")) {
    if (t->is_string()) return std::string(t->get_string());
    if (t->is_array()) {
      std::string first;
      for (const bj::value& name : t->get_array()) {
        if (!name.is_string()) continue;
        if (name.get_string() != "null") return std::string(name.get_string());
        first = "null";
      }
      return first;
    }
  }
  if (schema.contains("properties")) return "object";
  if (schema.contains("items")) return "array";
  return "string";
}

double Number(const bj::object& schema, std::string_view key, double fallback) {
  const bj::value* v = schema.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : fallback;
}

// Bounds on a structured answer: a schema is the client's, and arrays of arrays (minItems) or
// properties that $ref the root would otherwise ask for an answer of any size.
constexpr size_t kMaxAnswerValues = 10'000;
constexpr size_t kMaxAnswerBytes = 1 << 20;

// An int64 near `d` (NaN is 0), without the undefined behaviour of casting one out of range.
int64_t ClampedInt(double d) {
  if (!(d == d)) return 0;
  if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(d);
}

// A deterministic instance of a schema (the subset agent::ValidateArguments checks, plus local
// $refs and the first branch of anyOf / oneOf): enum -> its first value; string -> the answer for
// an answer-like property, else a placeholder named after it; number -> its minimum, else 0;
// boolean -> false; array -> minItems instances of items; object -> every property. Gives up
// (`exhausted`) past kMaxAnswerValues values or kMaxAnswerBytes of text.
class Instance {
 public:
  Instance(const bj::object& root, const std::string& answer) : root_(root), answer_(answer) {}
  bool exhausted() const { return exhausted_; }

  bj::value Of(const bj::value& schema_value, std::string_view property, int depth) {
    if (exhausted_ || depth > 32 || !schema_value.is_object()) return nullptr;
    if (++values_ > kMaxAnswerValues) {
      exhausted_ = true;
      return nullptr;
    }
    const bj::object& schema = schema_value.get_object();
    if (const bj::value* ref = schema.if_contains("$ref"); ref && ref->is_string()) {
      std::string_view r = ref->get_string();
      for (std::string_view prefix : {"#/$defs/", "#/definitions/"}) {
        if (!r.starts_with(prefix)) continue;
        const bj::value* defs = root_.if_contains(prefix.substr(2, prefix.size() - 3));
        const bj::value* target = defs && defs->is_object()
                                      ? defs->get_object().if_contains(r.substr(prefix.size()))
                                      : nullptr;
        if (target) return Of(*target, property, depth + 1);
      }
      if (r == "#") return Of(root_, property, depth + 1);
    }
    if (const bj::value* c = schema.if_contains("const")) return *c;
    if (const bj::value* e = schema.if_contains("enum");
        e && e->is_array() && !e->get_array().empty())
      return e->get_array()[0];
    for (const char* branches : {"anyOf", "oneOf"})
      if (const bj::value* b = schema.if_contains(branches);
          b && b->is_array() && !b->get_array().empty())
        return Of(b->get_array()[0], property, depth + 1);
    const std::string type = TypeOf(schema);
    if (type == "null") return nullptr;
    if (type == "boolean") return false;
    if (type == "integer") {
      if (!schema.contains("minimum") && Number(schema, "maximum", 0) < 0)
        return ClampedInt(std::floor(Number(schema, "maximum", 0)));
      return ClampedInt(std::ceil(Number(schema, "minimum", 0)));
    }
    if (type == "number") {
      double v = Number(schema, "minimum", 0);
      if (!schema.contains("minimum") && Number(schema, "maximum", 0) < 0)
        v = Number(schema, "maximum", 0);
      if (v == std::floor(v) && std::abs(v) < 1e15) return static_cast<int64_t>(v);
      return v;
    }
    if (type == "array") {
      bj::array items;
      const bj::value* each = schema.if_contains("items");
      const auto n = static_cast<size_t>(std::clamp(Number(schema, "minItems", 0), 0.0, 100.0));
      for (size_t i = 0; i < n && !exhausted_; ++i)
        items.push_back(each ? Of(*each, property, depth + 1) : Text(property, {}));
      return items;
    }
    if (type == "object") {
      bj::object out;
      const bj::value* props = schema.if_contains("properties");
      if (props && props->is_object()) {
        for (const auto& kv : props->get_object()) {
          if (exhausted_) break;
          out[kv.key()] = Of(kv.value(), kv.key(), depth + 1);
        }
      } else if (depth == 0) {
        // An open object at the top (json_schema without a schema): the answer under "answer".
        const bj::value* extra = schema.if_contains("additionalProperties");
        if (!extra || !extra->is_bool() || extra->get_bool()) out["answer"] = Text("answer", {});
      }
      return out;
    }
    return Text(property, schema);  // a string, or a type we do not know (read as one)
  }

 private:
  // The answer for an answer-like property, else a placeholder named after it; within the
  // schema's minLength and maxLength (when given).
  bj::value Text(std::string_view property, const bj::object& schema) {
    std::string text;
    if (IsAnswerLike(property)) {
      text = answer_;
    } else {
      text = "sample " + std::string(property);
      std::replace(text.begin(), text.end(), '_', ' ');
    }
    const auto min_len =
        static_cast<size_t>(std::clamp(Number(schema, "minLength", 0), 0.0, 4096.0));
    if (text.size() < min_len) text.append(min_len - text.size(), '.');
    if (const bj::value* max = schema.if_contains("maxLength"); max && max->is_number())
      text.resize(Utf8CutPoint(text, static_cast<size_t>(std::clamp(max->to_number<double>(), 0.0,
                                                                    double(kMaxAnswerBytes)))));
    bytes_ += text.size();
    if (bytes_ > kMaxAnswerBytes) exhausted_ = true;
    return bj::value(std::move(text));
  }

  const bj::object& root_;
  const std::string& answer_;
  size_t values_ = 0;
  size_t bytes_ = 0;
  bool exhausted_ = false;
};

// The answer `text` as JSON of the asked shape: {"answer": text} for json_object, an instance of
// the schema for json_schema; InvalidArgument when the schema asks for more than the bounds.
Result<std::string> StructuredAnswer(const ResponseFormat& format, const std::string& text) {
  if (format.kind == ResponseFormat::Kind::kJsonObject)
    return bj::serialize(bj::object{{"answer", text}});
  boost::system::error_code ec;
  bj::value schema = bj::parse(format.schema, ec);
  if (ec || !schema.is_object()) schema = bj::object{{"type", "object"}};
  Instance instance(schema.get_object(), text);
  bj::value answer = instance.Of(schema, "answer", 0);
  if (instance.exhausted())
    return Status::InvalidArgument(
               fmt::format(
                   "the response_format schema asks for an answer larger than the offline model "
                   "gives (at most {} values and {} bytes of text)",
                   kMaxAnswerValues, kMaxAnswerBytes),
               "invalid_value")
        .WithDetail("param", "response_format.json_schema.schema");
  return bj::serialize(answer);
}

}  // namespace

Awaitable<Result<ModelTurn>> OfflineModel::Generate(const ModelRequest& request,
                                                    ModelEvents& events) {
  ModelTurn turn;
  int64_t input = 0;
  for (const auto& m : request.messages) input += EstimateTokens(m.content) + 4;
  for (const auto& t : request.tools)
    input += EstimateTokens(t.description) + EstimateTokens(t.parameters_schema);
  turn.usage.input_tokens = input;

  const ChatMessage& last = request.messages.empty() ? ChatMessage{} : request.messages.back();
  const ChatMessage* user = LastUser(request);
  std::string text;
  std::optional<DocumentRequest> documents =
      user ? ParseDocumentRequest(user->content) : std::nullopt;
  if (last.role == Role::kTool) {
    text = AnswerFromToolResult(last);
  } else if (documents) {
    const bool search = documents->kind == "search";
    const char* tool = search ? "search_documents" : "read_document";
    if (Offers(request, tool)) {
      std::string args =
          bj::serialize(bj::object{{search ? "query" : "document_id", documents->argument}});
      turn.tool_calls.push_back(
          {"call_" + HexEncode(crypto::Sha256(user->content + tool)).substr(0, 16), tool, args});
      turn.usage.output_tokens = EstimateTokens(args) + 8;
      turn.stop_reason = "tool_use";
      co_return turn;
    }
    text =
        "The organisation's documents are not available to you here: a tenant admin can set up an "
        "authorization model with a `document` type and grant you `viewer` on documents.";
  } else if (user && IsWeatherQuestion(user->content)) {
    std::string lower = ToLower(user->content);
    bool wants_forecast = lower.find("forecast") != std::string::npos ||
                          lower.find("tomorrow") != std::string::npos ||
                          lower.find("week") != std::string::npos;
    const char* tool = wants_forecast && Offers(request, "get_weather_forecast")
                           ? "get_weather_forecast"
                       : Offers(request, "get_current_weather") ? "get_current_weather"
                                                                : nullptr;
    if (tool) {
      std::string args = bj::serialize(bj::object{{"location", ExtractLocation(user->content)}});
      turn.tool_calls.push_back(
          {"call_" + HexEncode(crypto::Sha256(user->content + tool)).substr(0, 16), tool, args});
      turn.usage.output_tokens = EstimateTokens(args) + 8;
      turn.stop_reason = "tool_use";
      co_return turn;
    }
    text =
        "Your plan does not include the weather tool, so I can't look up the weather for you. "
        "A tenant admin can move the organisation to the advanced or premium plan to enable it.";
  } else {
    text =
        "I'm Gatehouse's built-in offline model: I run without any network, so I can't hold a real "
        "conversation. I can look up the weather for you (try \"What's the weather in Paris?\"). "
        "To chat with a real model, set OPENAI_BASE_URL and OPENAI_API_KEY (OpenAI, or any "
        "compatible "
        "server such as llama.cpp, Ollama or vLLM) and restart Gatehouse.";
  }
  if (request.response_format) {
    Result<std::string> structured = StructuredAnswer(*request.response_format, text);
    if (!structured.ok()) co_return std::move(structured).status();
    text = std::move(structured).value();
  }
  // The client's stop sequences: the answer ends where the first one begins. The whole answer is
  // known before anything is streamed, so it is cut first: no streamed piece can reach past the
  // cut, even when a sequence spans two pieces. A structured answer is not cut: it would no longer
  // be JSON. (Sampling parameters mean nothing here.)
  std::string stop_reason = "end_turn";
  if (std::optional<size_t> cut =
          request.response_format ? std::nullopt : FirstStopSequence(text, request.sampling.stop)) {
    text.resize(*cut);
    stop_reason = "stop_sequence";
  }
  // Stream word by word.
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start + 1);
    end = end == std::string::npos ? text.size() : end;
    if (delay_.count() > 0) {
      net::steady_timer timer(co_await net::this_coro::executor, delay_);
      co_await timer.async_wait(net::use_awaitable);
    }
    Status st = co_await events.OnTextDelta(std::string_view(text).substr(start, end - start));
    if (!st.ok()) co_return st;
    start = end;
  }
  turn.text = std::move(text);
  turn.usage.output_tokens = EstimateTokens(turn.text);
  turn.stop_reason = std::move(stop_reason);
  co_return turn;
}

}  // namespace gh::models
