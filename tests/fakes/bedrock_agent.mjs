// A fake bedrock-agent-runtime for tests: answers InvokeAgent
// (POST /agents/{agentId}/agentAliases/{aliasId}/sessions/{sessionId}/text) with the real
// application/vnd.amazon.eventstream framing: `trace` events (the TracePart JSON as given) and
// `chunk` events ({bytes: base64 text}), and records every request so tests can check what
// Gatehouse sent (path, SigV4 headers, body).
import http from 'node:http';
import { crc32 } from 'node:zlib';

// One event-stream message: prelude (total length, headers length, prelude CRC32), string
// headers (name length u8, name, type 7, value length u16, value), payload, message CRC32.
export function eventFrame(headers, payload) {
  const parts = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    parts.push(h);
  }
  const hdrs = Buffer.concat(parts);
  const body = Buffer.from(payload, 'utf8');
  const total = 12 + hdrs.length + body.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(hdrs.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const message = Buffer.concat([prelude, hdrs, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(message), 0);
  return Buffer.concat([message, crc]);
}

const event = (type, payload) => eventFrame(
  { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, payload);
export const chunkEvent = (text) => event('chunk', JSON.stringify({ bytes: Buffer.from(text, 'utf8').toString('base64') }));
export const traceEvent = (tracePart) => event('trace', JSON.stringify(tracePart));

// script: array of answers, each an array of frames (Buffers) sent one write each; the last
// answer repeats once the script runs out.
export async function startFakeBedrockAgent(script = [[chunkEvent('ok')]]) {
  const requests = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', async () => {
      let body = null;
      try { body = JSON.parse(raw); } catch { /* recorded raw */ }
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, raw });
      if (req.method !== 'POST' || !/^\/agents\/[^/]+\/agentAliases\/[^/]+\/sessions\/[^/]+\/text$/.test(req.url)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
        return;
      }
      const frames = script[Math.min(next, script.length - 1)];
      next += 1;
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream',
        'x-amzn-bedrock-agent-content-type': 'application/json', 'x-amz-bedrock-agent-session-id': 's' });
      for (const f of frames) {
        res.write(f);
        await new Promise((r) => setTimeout(r, 2));
      }
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}
