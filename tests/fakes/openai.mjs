// A fake OpenAI-compatible Chat Completions server for tests. It speaks the real wire format
// (JSON, or SSE chunks ending with `data: [DONE]`), answers from a script of turns, and records
// every request it receives so tests can check what Gatehouse sent.
import http from 'node:http';

// turns: array of {text?, tool_calls?: [{id, name, arguments}], status?, error?, usage?, chunkDelayMs?,
// firstChunkDelayMs?, raw? (sent as the body as it is)}, or a function (requestBody, index) => turn that answers from what was sent.
// Each recorded request gets `aborted: true` if the client hung up mid-answer.
export async function startFakeOpenAI(turns = []) {
  const requests = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      let parsed = null;
      try { parsed = JSON.parse(body); } catch { /* recorded raw */ }
      const record = { method: req.method, url: req.url, headers: req.headers, body: parsed, raw: body, aborted: false, at: Date.now() };
      requests.push(record);
      let finished = false;
      res.on('close', () => { if (!finished) record.aborted = true; });
      if (req.url !== '/v1/chat/completions') { res.writeHead(404).end(); return; }
      const turn = (typeof turns === 'function' ? turns(parsed, next) : turns[Math.min(next, turns.length - 1)])
        || { text: 'ok' };
      next += 1;
      if (turn.status && turn.status !== 200) {
        res.writeHead(turn.status, { 'content-type': 'application/json', ...(turn.headers || {}) });
        res.end(JSON.stringify({ error: { message: turn.error || 'upstream failure', type: 'test' } }));
        return;
      }
      if (turn.raw !== undefined) {  // an answer that is not what the API promises
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(turn.raw);
        return;
      }
      const usage = turn.usage || { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
      const id = `chatcmpl-${next}`;
      const chunk = (delta, finish = null) => ({ id, object: 'chat.completion.chunk', created: 1, model: parsed?.model,
        choices: [{ index: 0, delta, finish_reason: finish }] });
      if (!parsed?.stream) {
        if (turn.firstChunkDelayMs) {  // the answer is generated before anything is sent
          const until = Date.now() + turn.firstChunkDelayMs;
          while (Date.now() < until && !res.destroyed) await new Promise((r) => setTimeout(r, 50));
          if (res.destroyed) return;
        }
        const message = { role: 'assistant', content: turn.text ?? null };
        if (turn.tool_calls) message.tool_calls = turn.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, object: 'chat.completion', created: 1, model: parsed?.model,
          choices: [{ index: 0, message, finish_reason: turn.tool_calls ? 'tool_calls' : 'stop' }], usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = async (obj) => {
        if (res.destroyed) return;
        res.write(`data: ${JSON.stringify(obj)}\n\n`);
        if (turn.chunkDelayMs) await new Promise((r) => setTimeout(r, turn.chunkDelayMs));
      };
      if (turn.firstChunkDelayMs) {
        const until = Date.now() + turn.firstChunkDelayMs;
        while (Date.now() < until && !res.destroyed) await new Promise((r) => setTimeout(r, 50));
      }
      await send(chunk({ role: 'assistant', content: '' }));
      if (turn.text) {
        for (const piece of turn.text.match(/\S+\s*/g) || []) await send(chunk({ content: piece }));
      }
      if (turn.tool_calls) {
        for (const [index, c] of turn.tool_calls.entries()) {
          await send(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
          const half = Math.floor(c.arguments.length / 2);
          await send(chunk({ tool_calls: [{ index, function: { arguments: c.arguments.slice(0, half) } }] }));
          await send(chunk({ tool_calls: [{ index, function: { arguments: c.arguments.slice(half) } }] }));
        }
      }
      await send(chunk({}, turn.tool_calls ? 'tool_calls' : 'stop'));
      if (parsed?.stream_options?.include_usage) await send({ id, object: 'chat.completion.chunk', choices: [], usage });
      finished = !res.destroyed;
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}

// "CALL <tool> <json arguments>" makes the model call that tool; a tool result makes it answer.
export function scriptedModel(body, index) {
  const messages = body?.messages || [];
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') return { text: `TOLD: ${last.content}` };
  const m = /^CALL (\w+) (.*)$/s.exec(typeof last?.content === 'string' ? last.content : '');
  if (m) return { tool_calls: [{ id: `call_${index}`, name: m[1], arguments: m[2] }] };
  return { text: 'Nothing to do.' };
}
