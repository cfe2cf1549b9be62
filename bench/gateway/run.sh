#!/usr/bin/env bash
# The gateway benchmark: what Gatehouse's full pipeline (token check, tenant and plan, limits,
# persistence, metering) adds to an OpenAI-compatible chat completion, measured against calling the
# upstream directly and against one nginx proxy_pass hop to it, in the same run. See BENCHMARKS.md.
#
# Starts, all on 127.0.0.1 and all as this user: the mock upstream (bench/gateway/mock_upstream), an
# nginx with a temporary config, prefix and pid file, and Gatehouse with a fresh data dir whose
# premium plan has no message, token, budget or rate limits (see PLAN_LIMITS); registers a tenant through the API
# (verification code from the outbox), logs in and creates an API key. Then, for the same POST
# /v1/chat/completions body sent to the three targets:
#   1. throughput (non-streaming, wrk, closed loop at a few connection counts, best of);
#   2. latency one request at a time, the targets taking turns (added = target - direct);
#   3. latency at a fixed rate of half Gatehouse's best throughput (open loop);
#   4. streams one at a time: time to the first token and the gaps between tokens;
#   5. concurrent streams (the mock: 50 ms to the first token, then 20 tokens/s, 20 tokens: ideal
#      1.0 s): the highest concurrency at which 99% of streams end within 10% of ideal.
# Prints a table at the end; raw RESULT lines and logs stay in the work dir it names.
#
# Usage: BUILD=build bench/gateway/run.sh
# Knobs (environment): SECONDS_PER_RUN (8), WRK_CONNECTIONS ("16 64"), SEQ_REQUESTS (3000),
#   STREAM_SEQ (150), STREAM_LEVELS ("100 250 500 1000 2000"), STREAM_SECONDS (4), KEEP=1 keeps the work dir,
#   SETUP_ONLY=1 sets everything up, writes <work dir>/targets.env and waits (for profiling),
#   PLAN_LIMITS=finite gives the premium plan message, token and budget limits (far above what the
#   run uses, so every admission checks them in a write transaction) instead of none; the rate
#   limit stays off (its GCRA counts whole milliseconds: at most 60,000 requests per minute).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-"16 64"}
SEQ_REQUESTS=${SEQ_REQUESTS:-3000}
STREAM_SEQ=${STREAM_SEQ:-150}
STREAM_LEVELS=${STREAM_LEVELS:-"100 250 500 1000 2000"}
STREAM_SECONDS=${STREAM_SECONDS:-4}
case ${PLAN_LIMITS:-none} in
  none) LIMIT=unlimited ;;
  finite) LIMIT=1000000000000 ;;
  *) echo "PLAN_LIMITS is none or finite" >&2; exit 1 ;;
esac

GATEHOUSE=$BUILD/gatehouse
MOCK=$BUILD/bench/gateway/mock_upstream
LOAD=$BUILD/bench/gateway/gateway_load
for bin in "$GATEHOUSE" "$MOCK" "$LOAD"; do
  [ -x "$bin" ] || { echo "missing $bin: cmake --build $BUILD --target gatehouse mock_upstream gateway_load" >&2; exit 1; }
done
for tool in nginx wrk curl jq python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool (make bench installs nginx-light and wrk)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/gh-gateway-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for FILE PATTERN
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

echo "== machine: $(nproc) cores; load before: $(uptime | sed 's/.*load average: //'); plan limits: ${PLAN_LIMITS:-none}"
echo "== work dir: $WORK"

# --- the mock upstream --------------------------------------------------------------------------
"$MOCK" --listen 127.0.0.1:0 --threads 1 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/mock.log" '^listening'
MOCK_PORT=$(awk '/^listening/ {print $2}' "$WORK/mock.log")

# --- nginx: one proxy_pass hop, keep-alive to the mock, no buffering (SSE) ----------------------
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
daemon off;
events { worker_connections 16384; }
http {
  access_log $WORK/nginx/logs/access.log;
  client_body_temp_path $WORK/nginx/client_body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 512;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" &
PIDS+=($!)

# --- Gatehouse: fresh data dir, the mock as its OpenAI-compatible model, generous premium plan ----
env -u OPENAI_BASE_URL -u OPENAI_API_KEY -u OPENAI_MODEL \
  GATEHOUSE_LOG_LEVEL=info \
  GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB=1024 \
  GATEHOUSE_IDENTITY_ACCESS_TOKEN_TTL_SECONDS=86400 \
  GATEHOUSE_MODELS_OPENAI_BASE_URL="http://127.0.0.1:$MOCK_PORT/v1" \
  GATEHOUSE_MODELS_OPENAI_API_KEY=sk-bench \
  GATEHOUSE_MODELS_OPENAI_MODEL=mock-model \
  GATEHOUSE_PLANS_PREMIUM_MESSAGES_PER_DAY=$LIMIT \
  GATEHOUSE_PLANS_PREMIUM_MESSAGES_PER_MONTH=$LIMIT \
  GATEHOUSE_PLANS_PREMIUM_TOKENS_PER_MONTH=$LIMIT \
  GATEHOUSE_PLANS_PREMIUM_BUDGET_MICROS_PER_MONTH=$LIMIT \
  GATEHOUSE_PLANS_PREMIUM_REQUESTS_PER_MINUTE=unlimited \
  GATEHOUSE_PLANS_PREMIUM_CONCURRENT_SESSIONS=100000 \
  "$GATEHOUSE" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/gatehouse.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/gatehouse.log" '"msg":"listening"'
GH_PORT=$(grep -m1 '"msg":"listening"' "$WORK/gatehouse.log" | grep -o '"port":[0-9]*' | cut -d: -f2)
GH="http://127.0.0.1:$GH_PORT"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/health" && break; sleep 0.1; done

# --- a tenant, a user, an access token and an API key, through the API ------------------------------
EMAIL="bench-$$@example.com"
PASSWORD='Bench-Load-42!'
post() { curl -sS -X POST "$GH$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2"; }
post /api/auth/register "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"tenant_name\":\"Bench\",\"subscription_tier\":\"premium\"}" >/dev/null
CODE=$(grep -h -o 'verification code is [0-9]\{6\}' "$WORK"/data/outbox/*.eml | tail -1 | awk '{print $4}')
post /api/auth/verify "{\"email\":\"$EMAIL\",\"code\":\"$CODE\"}" >/dev/null
TOKEN=$(post /api/auth/login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | jq -r .access_token)
API_KEY=$(post /api/keys '{"name":"bench"}' "$TOKEN" | jq -r .key)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] && [ -n "$API_KEY" ] && [ "$API_KEY" != null ] || { echo "setup failed" >&2; exit 1; }

DIRECT_URL="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
GH_URL="$GH/v1/chat/completions"
TARGETS=(--target direct "$DIRECT_URL" - --target nginx "$NGINX_URL" - --target gatehouse "$GH_URL" "Bearer $TOKEN")

# The bodies: non-streaming, 16 tokens at once; streams for the first token; streams under load.
body() { echo "{\"model\":\"mock-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello, how are you today? [mock $1]\"}]$2}"; }
body "tokens=16" ',"stream":false' >"$WORK/plain.json"
body "tokens=10 tps=200" ',"stream":true,"stream_options":{"include_usage":true}' >"$WORK/stream.json"
body "latency_ms=50 tokens=20 tps=20" ',"stream":true,"stream_options":{"include_usage":true}' >"$WORK/load.json"

for url in "$DIRECT_URL" "$NGINX_URL"; do
  curl -sfS -o /dev/null -X POST "$url" -H 'content-type: application/json' --data-binary @"$WORK/plain.json"
done
check=$(curl -sS -X POST "$GH_URL" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \
  --data-binary @"$WORK/plain.json")
echo "$check" | grep -q '"choices"' || { echo "Gatehouse did not answer a completion: $check" >&2; exit 1; }

cat >"$WORK/targets.env" <<EOF
DIRECT_URL=$DIRECT_URL
NGINX_URL=$NGINX_URL
GH_URL=$GH_URL
TOKEN=$TOKEN
API_KEY=$API_KEY
GH_PID=${PIDS[2]}
EOF
if [ "${SETUP_ONLY:-0}" = 1 ]; then  # for profiling: the servers stay up until this script is stopped
  echo "== setup done: $WORK/targets.env"
  sleep infinity & wait $!
fi

RESULTS="$WORK/results.txt"
: >"$RESULTS"
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" | head -1; }  # field NAME < RESULT line

# --- 1. throughput ---------------------------------------------------------------------------------
cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$(cat "$WORK/plain.json")]]
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
EOF
declare -A BEST
for name in direct nginx gatehouse gatehouse-apikey; do BEST[$name]=0; done
for c in $WRK_CONNECTIONS; do
  for name in direct nginx gatehouse gatehouse-apikey; do
    case $name in
      direct) url=$DIRECT_URL auth="" ;;
      nginx) url=$NGINX_URL auth="" ;;
      gatehouse) url=$GH_URL auth="Bearer $TOKEN" ;;
      gatehouse-apikey) url=$GH_URL auth="Bearer $API_KEY" ;;
    esac
    out=$(WRK_AUTH="$auth" wrk -t1 -c"$c" -d"${SECONDS_PER_RUN}s" -s "$WORK/post.lua" "$url")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    echo "RESULT mode=wrk target=$name connections=$c rps=$rps non2xx=${bad:-0}" | tee -a "$RESULTS"
    [ -z "$bad" ] || { echo "$name answered errors under load" >&2; exit 1; }
    BEST[$name]=$(python3 -c "print(max(${BEST[$name]}, $rps))")
  done
done

# --- 2. latency, one at a time, targets taking turns ------------------------------------------------
"$LOAD" seq --requests "$SEQ_REQUESTS" --warmup 300 --body "$WORK/plain.json" "${TARGETS[@]}" \
  --target gatehouse-apikey "$GH_URL" "Bearer $API_KEY" | tee -a "$RESULTS"

# --- 3. latency at half of Gatehouse's best throughput, open loop -------------------------------------
HALF=$(python3 -c "print(int(${BEST[gatehouse]} / 2))")
"$LOAD" rate --rps "$HALF" --seconds "$SECONDS_PER_RUN" --body "$WORK/plain.json" --target direct "$DIRECT_URL" - | tee -a "$RESULTS"
"$LOAD" rate --rps "$HALF" --seconds "$SECONDS_PER_RUN" --body "$WORK/plain.json" --target nginx "$NGINX_URL" - | tee -a "$RESULTS"
"$LOAD" rate --rps "$HALF" --seconds "$SECONDS_PER_RUN" --body "$WORK/plain.json" --target gatehouse "$GH_URL" "Bearer $TOKEN" | tee -a "$RESULTS"

# --- 4. streams one at a time: first token and gaps (mock: 10 tokens, 5 ms apart) -----------------------
"$LOAD" seq --requests "$STREAM_SEQ" --warmup 20 --gap-ms 5 --body "$WORK/stream.json" "${TARGETS[@]}" | tee -a "$RESULTS"

# --- 5. concurrent streams ----------------------------------------------------------------------------
declare -A HOLDS
for name in direct nginx gatehouse; do
  HOLDS[$name]=0
  case $name in
    direct) url=$DIRECT_URL auth=- ;;
    nginx) url=$NGINX_URL auth=- ;;
    gatehouse) url=$GH_URL auth="Bearer $TOKEN" ;;
  esac
  for level in $STREAM_LEVELS; do
    line=$("$LOAD" streams --concurrency "$level" --seconds "$STREAM_SECONDS" --ideal-ms 1000 --gap-ms 50 \
      --body "$WORK/load.json" --target "$name" "$url" "$auth" | tee -a "$RESULTS")
    echo "$line"
    pct=$(echo "$line" | field on_time_pct)
    errs=$(echo "$line" | field errors)
    if [ "$errs" = 0 ] && python3 -c "import sys; sys.exit(0 if $pct >= 99 else 1)"; then HOLDS[$name]=$level; else break; fi
  done
done
echo "== load after: $(uptime | sed 's/.*load average: //')"

# --- the table ----------------------------------------------------------------------------------------
python3 - "$RESULTS" "${HOLDS[direct]}" "${HOLDS[nginx]}" "${HOLDS[gatehouse]}" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
holds = dict(zip(["direct", "nginx", "gatehouse"], map(int, sys.argv[2:5])))
def get(mode, target, key, **match):
    for r in rows:
        if r["mode"] == mode and r["target"] == target and all(r.get(k) == str(v) for k, v in match.items()):
            return float(r[key])
    return float("nan")
best = {t: max(float(r["rps"]) for r in rows if r["mode"] == "wrk" and r["target"] == t)
        for t in ["direct", "nginx", "gatehouse", "gatehouse-apikey"]}
seq = lambda t, k: get("seq", t, k, **{}) if True else None
# seq rows: the first block is non-streaming (no ttft), the second streaming.
plain = {r["target"]: r for r in rows if r["mode"] == "seq" and "ttft_p50_us" not in r}
stream = {r["target"]: r for r in rows if r["mode"] == "seq" and "ttft_p50_us" in r}
rate = {r["target"]: r for r in rows if r["mode"] == "rate"}
streams = {}
for r in rows:
    if r["mode"] == "streams" and int(r["concurrency"]) == holds.get(r["target"]):
        streams[r["target"]] = r
f = lambda x: f"{x:,.0f}"
def added(d, t, k):
    return float(d[t][k]) - float(d["direct"][k])
print()
print("| measure | direct (mock) | nginx hop | Gatehouse (JWT) | Gatehouse (API key) |")
print("|---|---:|---:|---:|---:|")
print(f"| non-streaming throughput, req/s (wrk, best of connection counts) | {f(best['direct'])} | {f(best['nginx'])} | {f(best['gatehouse'])} | {f(best['gatehouse-apikey'])} |")
for k, label in [("p50_us", "p50"), ("p99_us", "p99")]:
    cells = [f(float(plain[t][k])) for t in ["direct", "nginx", "gatehouse", "gatehouse-apikey"]]
    print(f"| one at a time, latency {label}, us | " + " | ".join(cells) + " |")
for k, label in [("p50_us", "p50"), ("p99_us", "p99")]:
    cells = ["—"] + [f(added(plain, t, k)) for t in ["nginx", "gatehouse", "gatehouse-apikey"]]
    print(f"| one at a time, added {label}, us | " + " | ".join(cells) + " |")
rps = float(rate["gatehouse"]["rps_asked"])
for k, label in [("p50_us", "p50"), ("p99_us", "p99")]:
    cells = [f(float(rate[t][k])) for t in ["direct", "nginx", "gatehouse"]]
    print(f"| at {f(rps)} req/s (half of Gatehouse's best), latency {label}, us | " + " | ".join(cells) + " | |")
print(f"| at {f(rps)} req/s, added p99, us | — | {f(added(rate, 'nginx', 'p99_us'))} | {f(added(rate, 'gatehouse', 'p99_us'))} | |")
for k, label in [("ttft_p50_us", "first token p50"), ("ttft_p99_us", "first token p99")]:
    cells = [f(float(stream[t][k])) for t in ["direct", "nginx", "gatehouse"]]
    print(f"| stream one at a time, {label}, us | " + " | ".join(cells) + " | |")
print(f"| stream one at a time, added first token p50 / p99, us | — | {f(added(stream, 'nginx', 'ttft_p50_us'))} / {f(added(stream, 'nginx', 'ttft_p99_us'))} | {f(added(stream, 'gatehouse', 'ttft_p50_us'))} / {f(added(stream, 'gatehouse', 'ttft_p99_us'))} | |")
cells = [f"{f(float(stream[t]['gap_p50_us']))} / {f(float(stream[t]['gap_p99_us']))} / {stream[t]['bunched']} of {stream[t]['gaps']}" for t in ["direct", "nginx", "gatehouse"]]
print("| stream gaps (mock: 5,000 us) p50 / p99 us / bunched (< 1/4 gap) | " + " | ".join(cells) + " | |")
print("| concurrent streams held within 10% of ideal (99% on time) | " + " | ".join(str(holds[t]) for t in ["direct", "nginx", "gatehouse"]) + " | |")
cells = []
for t in ["direct", "nginx", "gatehouse"]:
    r = streams.get(t)
    cells.append(f"{f(float(r['ttft_p50_us']))} / {f(float(r['ttft_p99_us']))} / {f(float(r['gap_p99_us']))}" if r else "—")
print("| at that concurrency: first token p50 / p99, gap p99, us (mock: 50,000 / 50,000 gap) | " + " | ".join(cells) + " | |")
print()
print("Targets:")
ng, gh = added(plain, "nginx", "p50_us"), added(plain, "gatehouse", "p50_us")
print(f"- added p50 {gh:.0f} us vs 2 x nginx hop {2*ng:.0f} us: {'met' if gh <= 2*ng else 'NOT met'} (ratio {gh/ng if ng else float('inf'):.1f}x the hop)")
p99 = added(rate, "gatehouse", "p99_us")
print(f"- p99 at half of Gatehouse's max ({f(rps)} req/s): {float(rate['gatehouse']['p99_us']):.0f} us absolute, {p99:.0f} us added over direct: {'met' if p99 < 1000 else 'NOT met'} (< 1 ms added)")
print(f"- throughput {f(best['gatehouse'])} vs half of nginx {f(best['nginx']/2)}: {'met' if best['gatehouse'] >= best['nginx']/2 else 'NOT met'} ({best['gatehouse']/best['nginx']:.2f}x nginx)")
print(f"- concurrent streams within 10%: Gatehouse {holds['gatehouse']} vs nginx {holds['nginx']}: {'met' if holds['gatehouse'] >= holds['nginx'] else 'NOT met'}")
tt = added(stream, "gatehouse", "ttft_p50_us")
print(f"- first-token added p50 {tt:.0f} us: {'met' if tt < 1000 else 'NOT met'} (< 1 ms)")
b = int(stream["gatehouse"]["bunched"]); bd = int(stream["direct"]["bunched"])
print(f"- buffering: Gatehouse bunched {b} gaps vs direct {bd} (gap p50 {float(stream['gatehouse']['gap_p50_us']):.0f} us for a 5,000 us mock gap)")
EOF
