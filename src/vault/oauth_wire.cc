#include "vault/oauth_wire.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::vault {

namespace bj = boost::json;

namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EncodeComponent(std::string_view s, bool space_as_plus) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string PercentEncode(std::string_view s) { return EncodeComponent(s, false); }

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += EncodeComponent(k, true);
    out.push_back('=');
    out += EncodeComponent(v, true);
  }
  return out;
}

std::optional<std::string_view> Form::Get(std::string_view key) const {
  auto it = fields.find(std::string(key));
  if (it == fields.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<Form> ParseForm(std::string_view body) {
  Form form;
  for (std::string_view pair : Split(body, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = FormDecode(pair.substr(0, eq));
    auto value =
        FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value)
      return Status::InvalidArgument(
          "the form body is not valid application/x-www-form-urlencoded");
    if (key->empty()) continue;
    if (!form.fields.emplace(*key, *value).second) form.duplicates.push_back(*key);
  }
  return form;
}

std::string AppendQuery(std::string_view url,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out(url);
  size_t hash = out.find('#');
  std::string fragment;
  if (hash != std::string::npos) {
    fragment = out.substr(hash);
    out.resize(hash);
  }
  bool has_query = out.find('?') != std::string::npos;
  for (const auto& [k, v] : params) {
    out.push_back(has_query ? '&' : '?');
    has_query = true;
    out += EncodeComponent(k, false);
    out.push_back('=');
    out += EncodeComponent(v, false);
  }
  return out + fragment;
}

std::string PkceChallenge(std::string_view verifier) {
  return Base64UrlEncode(crypto::Sha256(verifier));
}

std::string BasicAuthorization(std::string_view client_id, const Secret& client_secret) {
  return "Basic " + Base64Encode(EncodeComponent(client_id, true) + ":" +
                                 EncodeComponent(client_secret.reveal(), true));
}

std::optional<std::pair<std::string, Secret>> ParseBasicAuthorization(std::string_view header) {
  std::string_view v = Trim(header);
  if (v.size() < 6 || ToLower(v.substr(0, 6)) != "basic ") return std::nullopt;
  auto raw = Base64Decode(std::string(Trim(v.substr(6))));
  if (!raw) return std::nullopt;
  size_t colon = raw->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = FormDecode(std::string_view(*raw).substr(0, colon));
  auto secret = FormDecode(std::string_view(*raw).substr(colon + 1));
  if (!id || !secret) return std::nullopt;
  return std::make_pair(std::move(*id), Secret(std::move(*secret)));
}

TokenOutcome ParseTokenResponse(int http_status, std::string_view body) {
  TokenOutcome out;
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) {
    out.problem = "the token endpoint answered HTTP " + std::to_string(http_status) +
                  " without a JSON object";
    return out;
  }
  const bj::object& o = v.get_object();
  auto text = [&](const char* key) -> std::string {
    const bj::value* x = o.if_contains(key);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  if (http_status != 200 || !o.contains("access_token")) {
    std::string error = text("error");
    if (error.empty()) {
      out.problem = "the token endpoint answered HTTP " + std::to_string(http_status) +
                    " without an OAuth error";
      return out;
    }
    out.error = OAuthError{error, text("error_description")};
    return out;
  }
  TokenResponse t;
  t.access_token = Secret(text("access_token"));
  if (t.access_token.empty()) {
    out.problem = "the token endpoint's access_token is not a non-empty string";
    return out;
  }
  t.refresh_token = Secret(text("refresh_token"));
  std::string type = text("token_type");
  t.token_type = type.empty() ? "Bearer" : type;
  t.scope = text("scope");
  if (const bj::value* e = o.if_contains("expires_in")) {
    if (e->is_int64() && e->get_int64() >= 0)
      t.expires_in = e->get_int64();
    else if (e->is_uint64())
      t.expires_in = static_cast<int64_t>(e->get_uint64());
    else if (e->is_double() && e->get_double() >= 0)
      t.expires_in = static_cast<int64_t>(e->get_double());
    else if (e->is_string()) {
      int64_t n = 0;
      std::string_view s = e->get_string();
      auto [p, err] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (err == std::errc() && p == s.data() + s.size() && n >= 0) t.expires_in = n;
    }
  }
  out.tokens = std::move(t);
  return out;
}

Status CheckEndpointUrl(std::string_view url, bool allow_http, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Status::Unprocessable(std::string(what) + " " + std::string(why), "invalid_connection");
  };
  if (url.empty()) return bad("is required");
  if (url.size() > 2048) return bad("is too long");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return bad("is not an absolute URL");
  std::string scheme = ToLower(parsed->scheme());
  if (scheme != "https" && !(scheme == "http" && allow_http))
    return bad(allow_http ? "must be an http(s) URL" : "must be an https URL");
  if (parsed->host().empty()) return bad("has no host");
  if (parsed->has_userinfo()) return bad("must not carry credentials");
  if (parsed->has_fragment()) return bad("must not have a fragment");
  return Status::Ok();
}

}  // namespace gh::vault
