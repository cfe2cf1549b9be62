// Identity endpoints: registration, verification, login, refresh, logout, the caller's profile,
// and the OpenID Connect discovery and JWKS documents.
#include <fmt/format.h>

#include "api/json_io.h"
#include "api/services.h"
#include "common/strings.h"

namespace gh::api {

using pipeline::Auth;
using pipeline::RequestContext;

namespace {

bj::object TokensJson(const identity::Tokens& t) {
  return bj::object{{"access_token", t.access_token},
                    {"id_token", t.id_token},
                    {"refresh_token", t.refresh_token},
                    {"token_type", "Bearer"},
                    {"expires_in", t.expires_in}};
}

}  // namespace

void RegisterAuthRoutes(pipeline::Router& r, Services& s) {
  r.Add({.method = "POST",
         .pattern = "/api/auth/register",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string email, json::RequiredString(body, "email", 254));
           GH_ASSIGN_OR_RETURN(std::string password, json::RequiredString(body, "password", 256));
           GH_ASSIGN_OR_RETURN(auto invite, json::OptionalString(body, "invite_code", 200));
           identity::Registration reg;
           if (invite && !invite->empty()) {
             GH_ASSIGN_OR_RETURN(
                 reg, s.identity.RegisterWithInvitation(email, Secret(password), *invite));
           } else {
             GH_ASSIGN_OR_RETURN(std::string tenant_name,
                                 json::RequiredString(body, "tenant_name", 200));
             GH_ASSIGN_OR_RETURN(std::string tier,
                                 json::RequiredString(body, "subscription_tier", 64));
             GH_ASSIGN_OR_RETURN(
                 reg, s.identity.RegisterTenant(email, Secret(password), tenant_name, tier));
           }
           ReplyJson(ctx, 201,
                     bj::object{{"user_id", reg.user_id.value()},
                                {"tenant_id", reg.tenant_id.value()},
                                {"email", reg.email},
                                {"role", reg.role},
                                {"verification_required", true}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/auth/verify",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string email, json::RequiredString(body, "email", 254));
           GH_ASSIGN_OR_RETURN(std::string code, json::RequiredString(body, "code", 32));
           GH_RETURN_IF_ERROR(s.identity.Verify(email, std::string(Trim(code))));
           ReplyJson(ctx, 200, bj::object{{"verified", true}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/auth/resend",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string email, json::RequiredString(body, "email", 254));
           GH_RETURN_IF_ERROR(s.identity.Resend(email));
           ReplyJson(ctx, 202, bj::object{{"sent", true}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/auth/login",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string email, json::RequiredString(body, "email", 254));
           GH_ASSIGN_OR_RETURN(std::string password, json::RequiredString(body, "password", 256));
           GH_ASSIGN_OR_RETURN(auto tokens, s.identity.Login(email, Secret(password)));
           ReplyJson(ctx, 200, TokensJson(tokens));
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/auth/refresh",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string token, json::RequiredString(body, "refresh_token", 512));
           GH_ASSIGN_OR_RETURN(auto tokens, s.identity.Refresh(Secret(token)));
           ReplyJson(ctx, 200, TokensJson(tokens));
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/auth/logout",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string token, json::RequiredString(body, "refresh_token", 512));
           GH_RETURN_IF_ERROR(s.identity.Logout(Secret(token)));
           ReplyJson(ctx, 200, bj::object{{"logged_out", true}});
           return Status::Ok();
         }});
  r.Add({.method = "GET", .pattern = "/api/me", .sync = [](RequestContext& ctx) -> Status {
           const auto& p = *ctx.principal;
           bj::array groups;
           for (const auto& g : p.groups) groups.emplace_back(g);
           ReplyJson(ctx, 200,
                     bj::object{{"user_id", p.user_id.value()},
                                {"email", p.email},
                                {"tenant_id", p.tenant_id.value()},
                                {"tenant_name", ctx.tenant->name},
                                {"subscription_tier", ctx.tenant->tier},
                                {"role", p.role()},
                                {"groups", std::move(groups)},
                                {"platform_operator", p.platform_operator}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/.well-known/openid-configuration",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           const std::string& iss = s.identity.config().issuer;
           ReplyJson(
               ctx, 200,
               bj::object{
                   {"issuer", iss},
                   {"jwks_uri", iss + "/.well-known/jwks.json"},
                   {"token_endpoint", iss + "/oauth/token"},
                   {"registration_endpoint", iss + "/api/auth/register"},
                   {"userinfo_endpoint", iss + "/api/me"},
                   {"response_types_supported", bj::array{"token"}},
                   {"grant_types_supported",
                    bj::array{"password", "refresh_token", "urn:openid:params:grant-type:ciba",
                              "urn:ietf:params:oauth:grant-type:token-exchange"}},
                   {"backchannel_authentication_endpoint", iss + "/bc-authorize"},
                   {"backchannel_token_delivery_modes_supported", bj::array{"poll"}},
                   {"backchannel_user_code_parameter_supported", false},
                   {"subject_types_supported", bj::array{"public"}},
                   {"id_token_signing_alg_values_supported", bj::array{"ES256"}},
                   {"token_endpoint_auth_methods_supported",
                    bj::array{"none", "client_secret_basic", "client_secret_post"}},
                   {"claims_supported", bj::array{"iss", "sub", "aud", "exp", "iat", "jti", "email",
                                                  "tenant_id", "subscription_tier", "groups"}}});
           ctx.response.headers.Set("cache-control", "public, max-age=300");
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/.well-known/jwks.json",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           bj::array keys;
           for (const auto& k : s.identity.PublicKeys())
             keys.push_back(bj::object{{"kty", "EC"},
                                       {"crv", "P-256"},
                                       {"x", Base64UrlEncode(k.key.EcX())},
                                       {"y", Base64UrlEncode(k.key.EcY())},
                                       {"kid", k.kid},
                                       {"alg", "ES256"},
                                       {"use", "sig"}});
           ReplyJson(ctx, 200, bj::object{{"keys", std::move(keys)}});
           ctx.response.headers.Set("cache-control", "public, max-age=300");
           return Status::Ok();
         }});
}

}  // namespace gh::api
