// The OpenAI-compatible API, so existing SDKs and agent frameworks can use Gatehouse as their
// OpenAI endpoint (`baseURL: <gatehouse>/v1`, the caller's API key or access token as the key):
//   POST /v1/chat/completions (JSON, or SSE chunks with `stream: true`), GET /v1/models,
//   GET /v1/models/{model} — answering, errors included, in OpenAI's shapes (see openai_wire.h);
// and the per-user API keys those clients authenticate with (keys_api.cc):
//   POST /api/keys, GET /api/keys, DELETE /api/keys/{key_id}.
// A completion is one model call with the caller's conversation and tools (passthrough: tool calls
// go back to the client, Gatehouse runs none), under the caller's plan, limits and metering
// exactly as a chat turn: one message reserved per request, each call's worst case reserved and
// settled (ChatService::Complete).
#pragma once

#include "api/services.h"
#include "identity/api_keys.h"
#include "pipeline/router.h"

namespace gh::api {

// Adds the /v1 routes and the /api/keys routes.
void RegisterOpenAiRoutes(pipeline::Router& router, Services& s, identity::ApiKeyService& keys);
// The /api/keys routes alone.
void RegisterKeyRoutes(pipeline::Router& router, identity::ApiKeyService& keys);

}  // namespace gh::api
