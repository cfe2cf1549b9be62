#include "identity/jwt.h"

#include <boost/json.hpp>

#include "common/strings.h"

namespace gh::identity {
namespace bj = boost::json;

namespace {

Status Invalid(std::string msg) { return Status::Unauthenticated(std::move(msg), "invalid_token"); }

Result<bj::object> DecodeJsonPart(std::string_view part, const char* what) {
  auto raw = Base64UrlDecode(part);
  if (!raw) return Invalid(std::string("token ") + what + " is not base64url");
  boost::system::error_code ec;
  bj::value v = bj::parse(*raw, ec);
  if (ec || !v.is_object()) return Invalid(std::string("token ") + what + " is not a JSON object");
  return std::move(v.as_object());
}

const bj::string* Str(const bj::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

std::optional<int64_t> Int(const bj::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() < uint64_t(INT64_MAX)) return int64_t(v->get_uint64());
  if (v->is_double()) return int64_t(v->get_double());
  return std::nullopt;
}

// A claim by name: top-level first, then (for a dotted name) a path into nested objects.
const bj::value* Claim(const bj::object& o, std::string_view name) {
  if (auto* v = o.if_contains(name)) return v;
  if (name.find('.') == std::string_view::npos) return nullptr;
  const bj::object* at = &o;
  const bj::value* v = nullptr;
  for (std::string_view part : Split(name, '.')) {
    if (!at) return nullptr;
    v = at->if_contains(part);
    if (!v) return nullptr;
    at = v->is_object() ? &v->get_object() : nullptr;
  }
  return v;
}

const bj::string* ClaimStr(const bj::object& o, std::string_view name) {
  auto* v = Claim(o, name);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

Result<std::string> TokenSigner::Sign(std::string_view typ, std::string_view payload_json) const {
  bj::object header{{"alg", "ES256"}, {"typ", typ}, {"kid", kid_}};
  std::string input = Base64UrlEncode(bj::serialize(header)) + "." + Base64UrlEncode(payload_json);
  GH_ASSIGN_OR_RETURN(std::string sig, key_.Sign(input));
  return input + "." + Base64UrlEncode(sig);
}

std::string AccessTokenPayload(const AccessClaims& c) {
  bj::array groups;
  for (const auto& g : c.principal.groups) groups.emplace_back(g);
  bj::object o{{"iss", c.issuer},
               {"sub", c.principal.user_id.value()},
               {"aud", c.audience},
               {"exp", c.expires_at},
               {"iat", c.issued_at},
               {"nbf", c.issued_at},
               {"jti", c.jti},
               {"email", c.principal.email},
               {"tenant_id", c.principal.tenant_id.value()},
               {"subscription_tier", c.principal.subscription_tier},
               {"groups", std::move(groups)},
               {"client_id", c.audience}};
  return bj::serialize(o);
}

std::string IdTokenPayload(const AccessClaims& c, bool email_verified) {
  bj::object o{{"iss", c.issuer},
               {"sub", c.principal.user_id.value()},
               {"aud", c.audience},
               {"exp", c.expires_at},
               {"iat", c.issued_at},
               {"email", c.principal.email},
               {"email_verified", email_verified},
               {"tenant_id", c.principal.tenant_id.value()},
               {"subscription_tier", c.principal.subscription_tier}};
  return bj::serialize(o);
}

Result<AccessClaims> TokenVerifier::Verify(std::string_view token) const {
  if (token.empty()) return Invalid("empty token");
  if (token.size() > opt_.max_token_bytes) return Invalid("token is too large");
  auto parts = Split(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty())
    return Invalid("token is not a compact JWS");
  GH_ASSIGN_OR_RETURN(bj::object header, DecodeJsonPart(parts[0], "header"));
  if (header.contains("crit")) return Invalid("token uses critical header extensions");
  const bj::string* kid = Str(header, "kid");
  if (!kid) return Invalid("token has no key id");
  auto key_it = keys_.find(std::string(*kid));
  if (key_it == keys_.end()) return Invalid("token is signed with an unknown key");
  const crypto::VerifyingKey& key = key_it->second;
  const bj::string* alg = Str(header, "alg");
  if (!alg || *alg != crypto::JwsAlgName(key.alg()))
    return Invalid("token algorithm does not match the key");
  const bj::string* typ = Str(header, "typ");
  if (!opt_.required_typ.empty()) {
    std::string t = typ ? ToLower(*typ) : "";
    if (t != opt_.required_typ && t != "application/" + opt_.required_typ)
      return Invalid("token type is not " + opt_.required_typ);
  }
  auto sig = Base64UrlDecode(parts[2]);
  if (!sig) return Invalid("token signature is not base64url");
  std::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!key.Verify(signing_input, *sig)) return Invalid("token signature is invalid");

  GH_ASSIGN_OR_RETURN(bj::object claims, DecodeJsonPart(parts[1], "payload"));
  const int64_t now = clock_.NowUnixSeconds();
  const bj::string* iss = Str(claims, "iss");
  if (!iss || *iss != opt_.issuer) return Invalid("token issuer is not trusted");
  bool aud_ok = false;
  if (auto* aud = claims.if_contains("aud")) {
    if (aud->is_string())
      aud_ok = aud->get_string() == opt_.audience;
    else if (aud->is_array())
      for (const auto& a : aud->get_array())
        aud_ok |= a.is_string() && a.get_string() == opt_.audience;
  }
  if (!aud_ok && opt_.claims.client_id_as_audience && !claims.contains("aud")) {
    const bj::string* client_id = Str(claims, "client_id");
    aud_ok = client_id && *client_id == opt_.audience;
  }
  if (!aud_ok) return Invalid("token audience is not this service");
  auto exp = Int(claims, "exp");
  if (!exp) return Invalid("token has no expiry");
  if (now > *exp + opt_.leeway_seconds)
    return Status::Unauthenticated("token has expired", "token_expired");
  if (auto nbf = Int(claims, "nbf"); nbf && now + opt_.leeway_seconds < *nbf)
    return Invalid("token is not yet valid");
  auto iat = Int(claims, "iat");
  if (!iat) return Invalid("token has no issue time");
  if (now + opt_.leeway_seconds < *iat) return Invalid("token was issued in the future");

  AccessClaims out;
  out.issuer = std::string(*iss);
  out.audience = opt_.audience;
  out.issued_at = *iat;
  out.expires_at = *exp;
  const ClaimMapping& map = opt_.claims;
  const bj::string* sub = Str(claims, "sub");
  const bj::string* tenant = ClaimStr(claims, map.tenant);
  const bj::string* jti = Str(claims, "jti");
  if (!sub || sub->empty() || !tenant || tenant->empty() || (map.require_jti && !jti))
    return Invalid("token lacks required claims");
  out.jti = jti ? std::string(*jti) : std::string(*sub) + "@" + std::to_string(*iat);
  Principal& p = out.principal;
  p.user_id = UserId(std::string(*sub));
  p.tenant_id = TenantId(std::string(*tenant));
  if (auto* e = ClaimStr(claims, map.email)) p.email = std::string(*e);
  if (auto* t = Str(claims, "subscription_tier")) p.subscription_tier = std::string(*t);
  if (auto* ev = claims.if_contains("email_verified"))
    out.email_verified =
        (ev->is_bool() && ev->get_bool()) || (ev->is_string() && ev->get_string() == "true");
  if (auto* g = Claim(claims, map.groups); g && g->is_array()) {
    for (const auto& v : g->get_array())
      if (v.is_string()) p.groups.emplace_back(v.get_string());
  } else if (g && g->is_string()) {  // some issuers send a single group as a string
    p.groups.emplace_back(g->get_string());
  }
  p.token_id = out.jti;
  p.expires_at = *exp;
  return out;
}

}  // namespace gh::identity
