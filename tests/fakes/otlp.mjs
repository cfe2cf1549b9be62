// A fake OpenTelemetry collector for tests: accepts OTLP/HTTP JSON (POST /v1/traces, an
// ExportTraceServiceRequest), checks the envelope, records every span it receives (flattened,
// with its resource and attributes decoded), and can be told to fail (status) to test retries.
import http from 'node:http';

function decodeValue(v) {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('boolValue' in v) return v.boolValue;
  if ('doubleValue' in v) return v.doubleValue;
  return v;
}

export function decodeAttributes(list = []) {
  const out = {};
  for (const a of list) out[a.key] = decodeValue(a.value);
  return out;
}

export async function startFakeCollector({ status = 200 } = {}) {
  const requests = [];
  const spans = [];
  const problems = [];
  const state = { status };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.method !== 'POST' || req.url !== '/v1/traces') { res.writeHead(404).end(); return; }
      if (!String(req.headers['content-type'] || '').startsWith('application/json')) problems.push('content-type');
      let parsed;
      try { parsed = JSON.parse(body); } catch { problems.push('not JSON'); res.writeHead(400).end(); return; }
      if (state.status !== 200) { res.writeHead(state.status, { 'content-type': 'application/json' }).end('{}'); return; }
      for (const rs of parsed.resourceSpans || []) {
        const resource = decodeAttributes(rs.resource?.attributes);
        for (const ss of rs.scopeSpans || []) {
          for (const s of ss.spans || []) {
            if (!/^[0-9a-f]{32}$/.test(s.traceId) || !/^[0-9a-f]{16}$/.test(s.spanId)) problems.push(`ids of ${s.name}`);
            if (!/^\d+$/.test(s.startTimeUnixNano) || !/^\d+$/.test(s.endTimeUnixNano)) problems.push(`times of ${s.name}`);
            spans.push({ ...s, resource, scope: ss.scope, attributes: decodeAttributes(s.attributes) });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{}}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    requests, spans, problems,
    setStatus(s) { state.status = s; },
    // Waits until `pred(spans)` holds (or the timeout passes) and returns the spans.
    async waitFor(pred, timeoutMs = 10000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (pred(spans)) return spans;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`collector: condition not met; ${spans.length} spans received`);
    },
    close: () => new Promise((r) => server.close(r)),
  };
}
