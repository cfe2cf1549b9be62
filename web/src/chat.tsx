// Chat screen: session list, conversation with streamed answers and tool cards, composer.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, get, networkError, post, send } from './api';
import { ErrorBox, Spinner } from './components';
import { dateTime, durationSeconds, isRecord, parseDate, pretty, relative, str, timeOnly } from './format';
import { userFeed } from './feed';
import { parseJson, readEventStream } from './sse';
import type { ChatItem, Me, SessionInfo, StoredMessage, ToolCallView } from './types';

let keySeq = 0;
const newKey = (): string => `k${++keySeq}`;

const SUGGESTIONS = [
  "What's the weather in Paris?",
  'What can you help me with?',
  'Write a haiku about gateways.',
];

// ---- helpers for server data -----------------------------------------------------------------

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === 'string' ? p : isRecord(p) && typeof p['text'] === 'string' ? p['text'] : ''))
      .join('');
  }
  if (isRecord(content) && typeof content['text'] === 'string') return content['text'];
  return content == null ? '' : pretty(content);
}

/** Accepts {id,name,arguments,result?,is_error?} as well as OpenAI-style {id,function:{name,arguments}}. */
function toToolCall(raw: unknown, index: number): ToolCallView | null {
  if (!isRecord(raw)) return null;
  const fn = isRecord(raw['function']) ? raw['function'] : null;
  const name = str(raw['name']) ?? (fn ? str(fn['name']) : undefined) ?? 'tool';
  const call: ToolCallView = {
    id: str(raw['id']) ?? str(raw['tool_call_id']) ?? `call-${index}`,
    name,
    arguments: raw['arguments'] ?? raw['input'] ?? (fn ? fn['arguments'] : undefined) ?? {},
    done: false,
  };
  const result = raw['result'] ?? raw['output'];
  if (result !== undefined) {
    call.result = result;
    call.done = true;
  }
  if (typeof raw['is_error'] === 'boolean') call.isError = raw['is_error'];
  return call;
}

function historyToItems(messages: StoredMessage[]): ChatItem[] {
  const items: ChatItem[] = [];
  const findCall = (id: string | undefined, name: string | undefined): ToolCallView | undefined => {
    for (let i = items.length - 1; i >= 0; i--) {
      const calls = items[i]?.toolCalls ?? [];
      const hit = calls.find((c) => (id ? c.id === id : !c.done && (!name || c.name === name)));
      if (hit) return hit;
    }
    return undefined;
  };
  messages.forEach((m, idx) => {
    const role = m.role;
    if (role === 'tool') {
      const call = findCall(str(m['tool_call_id']) ?? str(m['id']), str(m['name']));
      const result = typeof m.content === 'string' ? parseJson(m.content) : m.content;
      if (call) {
        call.result = result;
        call.done = true;
        if (typeof m['is_error'] === 'boolean') call.isError = m['is_error'];
      } else {
        items.push({ key: newKey(), role: 'assistant', text: '', toolCalls: [{ id: `tool-${idx}`, name: str(m['name']) ?? 'tool',
          arguments: undefined, result, done: true }], streaming: false, deltaCount: 0 });
      }
      return;
    }
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls.map(toToolCall).filter((c): c is ToolCallView => !!c) : [];
    for (const c of calls) c.done = c.done || c.result !== undefined;
    const text = contentText(m.content);
    const last = items[items.length - 1];
    if (role === 'assistant' && last && last.role === 'assistant' && !last.text && last.toolCalls.length) {
      // A tool-calling step followed by the final answer renders as one assistant turn, like when live.
      last.text = text;
      last.toolCalls.push(...calls);
      if (m.message_id) last.messageId = m.message_id;
      return;
    }
    items.push({
      key: newKey(), role: role === 'user' ? 'user' : role === 'system' ? 'system' : 'assistant', text,
      toolCalls: calls, streaming: false, deltaCount: 0, createdAt: m.created_at, messageId: m.message_id,
    });
  });
  // Calls from history without a stored result are finished anyway.
  for (const it of items) for (const c of it.toolCalls) c.done = true;
  return items;
}

function resetTimeOf(err: ApiError): Date | null {
  for (const k of ['resets_at', 'reset_at', 'retry_at', 'resets']) {
    const d = parseDate(err.details[k]);
    if (d) return d;
  }
  return err.retryAfter !== null ? new Date(Date.now() + err.retryAfter * 1000) : null;
}

function isExpired(s: SessionInfo): boolean {
  const d = parseDate(s.expires_at);
  return !!d && d.getTime() <= Date.now();
}

const nextPaint = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 16));

// ---- tool card -------------------------------------------------------------------------------

function argsSummary(args: unknown): string {
  const v = typeof args === 'string' ? parseJson(args) : args;
  if (isRecord(v)) {
    const s = Object.entries(v).map(([k, x]) => `${k}: ${typeof x === 'string' ? JSON.stringify(x) : pretty(x)}`).join(', ');
    return s.length > 80 ? `${s.slice(0, 77)}…` : s;
  }
  return v === undefined ? '' : pretty(v).slice(0, 80);
}

function ToolCard({ call }: { call: ToolCallView }) {
  const result = typeof call.result === 'string' ? parseJson(call.result) : call.result;
  const held = call.done && !call.isError && isRecord(result) && result['status'] === 'approval_pending';
  const status = !call.done ? 'running' : call.isError ? 'error' : held ? 'pending' : 'done';
  return (
    <details class={`tool-card tool-${status}`} data-testid="tool-card" data-tool-name={call.name}
      data-tool-id={call.id} data-status={status}>
      <summary>
        <span class="tool-icon" aria-hidden="true">⚙</span>
        <span class="tool-title">Tool call: <strong data-testid="tool-name">{call.name}</strong></span>
        <code class="tool-args-inline">({argsSummary(call.arguments)})</code>
        <span class={`tool-status status-${status}`}>
          {status === 'running' ? <><Spinner label="Tool running" /> running</> : status === 'error' ? 'failed'
            : status === 'pending' ? <a href="/approvals" data-testid="tool-approval-link">awaiting approval</a> : 'done'}
        </span>
      </summary>
      <div class="tool-body">
        <h4>Arguments</h4>
        <pre data-testid="tool-arguments">{pretty(call.arguments) || '{}'}</pre>
        <h4>{call.isError ? 'Error' : 'Result'}</h4>
        {call.done
          ? <pre data-testid="tool-result" class={call.isError ? 'is-error' : ''}>{pretty(call.result) || '(empty)'}</pre>
          : <p class="muted">Waiting for the tool…</p>}
      </div>
    </details>
  );
}

// ---- message ---------------------------------------------------------------------------------

function MessageView({ item }: { item: ChatItem }) {
  const who = item.role === 'user' ? 'You' : item.role === 'system' ? 'System' : 'Assistant';
  return (
    <article class={`message message-${item.role}`} data-testid="message" data-role={item.role}
      data-streaming={item.streaming ? 'true' : 'false'} data-delta-count={item.deltaCount}
      data-message-id={item.messageId} aria-busy={item.streaming} aria-label={`${who} message`}>
      <div class="message-meta">
        <span class="message-author">{who}</span>
        {item.createdAt && <time dateTime={item.createdAt} title={dateTime(item.createdAt)}>{timeOnly(item.createdAt)}</time>}
      </div>
      {item.toolCalls.length > 0 && (
        <div class="tool-list">{item.toolCalls.map((c) => <ToolCard key={c.id} call={c} />)}</div>
      )}
      {(item.text || item.streaming) && (
        <div class="message-text" data-testid={item.role === 'user' ? 'message-user' : 'message-assistant'}>
          {item.text}
          {item.streaming && <span class="cursor" aria-hidden="true" />}
        </div>
      )}
      {item.error && (
        <div class="alert alert-error message-error" role="alert"
          data-testid={item.error.code === 'quota_exceeded' ? 'quota-error' : 'chat-error'} data-error-code={item.error.code}>
          <p class="alert-title">{item.error.message}</p>
          {item.error.resetsAt && (
            <p data-testid="quota-reset">Your quota resets {relative(item.error.resetsAt)} ({dateTime(item.error.resetsAt)}).</p>
          )}
        </div>
      )}
      {item.usage && !item.streaming && (
        <div class="message-foot muted">
          {item.usage.input_tokens ?? 0} in · {item.usage.output_tokens ?? 0} out tokens
        </div>
      )}
    </article>
  );
}

// ---- chat view -------------------------------------------------------------------------------

export function ChatView({ me, onChatFinished }: { me: Me; onChatFinished: () => void }) {
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [sessionsLoading, setSessionsLoading] = useState(true);
  const [sessionsError, setSessionsError] = useState<ApiError | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [items, setItems] = useState<ChatItem[]>([]);
  const [historyLoading, setHistoryLoading] = useState(false);
  const [historyError, setHistoryError] = useState<ApiError | null>(null);
  const [input, setInput] = useState('');
  const [sending, setSending] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const abortRef = useRef<AbortController | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const historyReq = useRef(0);

  const loadSessions = useCallback(async (): Promise<void> => {
    try {
      const res = await get<{ sessions?: SessionInfo[] }>(`/api/tenants/${enc(me.tenant_id)}/sessions`);
      const list = Array.isArray(res?.sessions) ? res.sessions : [];
      list.sort((a, b) => (parseDate(b.last_active_at ?? b.created_at)?.getTime() ?? 0)
        - (parseDate(a.last_active_at ?? a.created_at)?.getTime() ?? 0));
      setSessions(list);
      setSessionsError(null);
    } catch (e) {
      setSessionsError(networkError(e));
    } finally {
      setSessionsLoading(false);
    }
  }, [me.tenant_id]);

  useEffect(() => { void loadSessions(); }, [loadSessions]);
  useEffect(() => () => abortRef.current?.abort(), []);

  // Keep the newest text in view while streaming, unless the user scrolled up to read.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && stickRef.current) el.scrollTop = el.scrollHeight;
  }, [items]);

  const onScroll = (): void => {
    const el = scrollRef.current;
    if (el) stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  const selectSession = async (id: string): Promise<void> => {
    abortRef.current?.abort();
    setSidebarOpen(false);
    setActiveId(id);
    setItems([]);
    setHistoryError(null);
    setHistoryLoading(true);
    stickRef.current = true;
    const req = ++historyReq.current;
    try {
      const res = await get<{ messages?: StoredMessage[] }>(`/api/sessions/${enc(id)}/messages`);
      if (req !== historyReq.current) return;
      setItems(historyToItems(Array.isArray(res?.messages) ? res.messages : []));
    } catch (e) {
      if (req === historyReq.current) setHistoryError(networkError(e));
    } finally {
      if (req === historyReq.current) setHistoryLoading(false);
    }
    inputRef.current?.focus();
  };

  // After an approval the conversation goes on in the background: show the follow-up when it is open.
  const liveRef = useRef({ activeId, sending, selectSession });
  liveRef.current = { activeId, sending, selectSession };
  useEffect(() => userFeed.subscribe((m) => {
    if (m.event !== 'chat_continued' || !isRecord(m.data)) return;
    const open = liveRef.current;
    if (open.activeId && m.data['session_id'] === open.activeId && !open.sending) void open.selectSession(open.activeId);
    void loadSessions();
  }), [loadSessions]);

  const newChat = async (): Promise<void> => {
    abortRef.current?.abort();
    setSidebarOpen(false);
    setSessionsError(null);
    try {
      const res = await post<{ session_id: string; expires_at?: string }>('/api/sessions', {});
      const now = new Date().toISOString();
      setSessions((prev) => [{ session_id: res.session_id, user_id: me.user_id, title: null, created_at: now,
        last_active_at: now, expires_at: res.expires_at, message_count: 0 }, ...prev.filter((s) => s.session_id !== res.session_id)]);
      historyReq.current++;
      setActiveId(res.session_id);
      setItems([]);
      setHistoryError(null);
      setHistoryLoading(false);
      inputRef.current?.focus();
    } catch (e) {
      setSessionsError(networkError(e));
    }
  };

  const update = (key: string, fn: (it: ChatItem) => ChatItem): void => {
    setItems((prev) => prev.map((it) => (it.key === key ? fn(it) : it)));
  };

  const sendMessage = async (raw: string): Promise<void> => {
    const message = raw.trim();
    if (!message || sending) return;
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    setSending(true);
    setInput('');
    stickRef.current = true;
    const now = new Date().toISOString();
    const aKey = newKey();
    setItems((prev) => [...prev,
      { key: newKey(), role: 'user', text: message, toolCalls: [], streaming: false, deltaCount: 0, createdAt: now },
      { key: aKey, role: 'assistant', text: '', toolCalls: [], streaming: true, deltaCount: 0, createdAt: now }]);
    let finished = false;
    const fail = (code: string, msg: string, resetsAt: Date | null = null): void => {
      finished = true;
      update(aKey, (it) => ({
        ...it, streaming: false, error: { code, message: msg, resetsAt },
        toolCalls: it.toolCalls.map((c) => (c.done ? c
          : { ...c, done: true, isError: true, result: 'No result: the answer was interrupted.' })),
      }));
    };
    try {
      const body: { message: string; session_id?: string } = { message };
      if (activeId) body.session_id = activeId;
      const res = await send('POST', '/api/chat', { body, signal: ctrl.signal, headers: { accept: 'text/event-stream' } });
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // Server answered with plain JSON: render the complete reply.
        const r = (await res.json()) as Record<string, unknown>;
        const calls = Array.isArray(r['tool_calls']) ? r['tool_calls'].map(toToolCall).filter((c): c is ToolCallView => !!c) : [];
        for (const c of calls) c.done = true;
        const sid = str(r['session_id']);
        if (sid && !activeId) { historyReq.current++; setActiveId(sid); }
        finished = true;
        update(aKey, (it) => ({ ...it, text: str(r['response']) ?? '', toolCalls: calls, streaming: false,
          messageId: str(r['message_id']), usage: isRecord(r['usage']) ? r['usage'] as ChatItem['usage'] : undefined }));
        return;
      }
      let deltasSincePaint = 0;
      for await (const ev of readEventStream(res, ctrl.signal)) {
        const data = parseJson(ev.data);
        const d = isRecord(data) ? data : {};
        switch (ev.event) {
          case 'start': {
            const sid = str(d['session_id']);
            if (sid && !activeId) { historyReq.current++; setActiveId(sid); }
            update(aKey, (it) => ({ ...it, messageId: str(d['message_id']) ?? it.messageId, traceId: str(d['trace_id']) }));
            break;
          }
          case 'delta': {
            const text = str(d['text']) ?? (typeof data === 'string' ? data : '');
            deltasSincePaint++;
            update(aKey, (it) => ({ ...it, text: it.text + text, deltaCount: it.deltaCount + 1 }));
            break;
          }
          case 'tool_call': {
            const call = toToolCall(d, 0);
            if (call) update(aKey, (it) => ({ ...it, toolCalls: [...it.toolCalls.filter((c) => c.id !== call.id), call] }));
            break;
          }
          case 'tool_result': {
            const id = str(d['id']);
            const name = str(d['name']);
            update(aKey, (it) => {
              let matched = false;
              const calls = it.toolCalls.map((c) => {
                if (matched || (id ? c.id !== id : c.done || c.name !== name)) return c;
                matched = true;
                return { ...c, result: d['result'], isError: d['is_error'] === true, done: true };
              });
              if (!matched) calls.push({ id: id ?? newKey(), name: name ?? 'tool', arguments: undefined,
                result: d['result'], isError: d['is_error'] === true, done: true });
              return { ...it, toolCalls: calls };
            });
            break;
          }
          case 'done': {
            // Let the streamed text reach the screen before the turn is finalised.
            if (deltasSincePaint) await nextPaint();
            deltasSincePaint = 0;
            finished = true;
            update(aKey, (it) => ({
              ...it, streaming: false,
              text: it.text || (str(d['response']) ?? ''),
              messageId: str(d['message_id']) ?? it.messageId,
              usage: isRecord(d['usage']) ? d['usage'] as ChatItem['usage'] : it.usage,
              toolCalls: it.toolCalls.map((c) => ({ ...c, done: true })),
            }));
            const sid = str(d['session_id']);
            if (sid && !activeId) { historyReq.current++; setActiveId(sid); }
            break;
          }
          case 'error':
            fail(str(d['code']) ?? 'stream_error', str(d['message']) ?? 'The answer could not be completed.');
            break;
          default:
            break;
        }
        if (deltasSincePaint >= 1 && ev.event === 'delta') {
          // Yield occasionally so long bursts of deltas render progressively.
          if (deltasSincePaint % 20 === 0) await nextPaint();
        }
      }
      if (!finished) fail('stream_interrupted', 'The connection closed before the answer was complete.');
    } catch (e) {
      const err = networkError(e);
      if (err.code === 'aborted') {
        finished = true;
        update(aKey, (it) => ({ ...it, streaming: false, error: it.text ? undefined : { code: 'aborted', message: 'Stopped.' } }));
      } else if (err.status === 429 && err.code === 'quota_exceeded') {
        fail(err.code, err.message, resetTimeOf(err));
      } else if (err.status === 429) {
        const reset = resetTimeOf(err);
        fail(err.code, reset ? `${err.message} Try again in ${durationSeconds((reset.getTime() - Date.now()) / 1000)}.` : err.message);
      } else {
        fail(err.code, err.message);
      }
    } finally {
      if (abortRef.current === ctrl) abortRef.current = null;
      setSending(false);
      void loadSessions();
      onChatFinished();
    }
  };

  const stop = (): void => { abortRef.current?.abort(); };

  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void sendMessage(input);
    }
  };

  const active = sessions.find((s) => s.session_id === activeId);
  const activeExpired = active ? isExpired(active) : false;

  return (
    <div class="chat-layout">
      <nav class={`sessions ${sidebarOpen ? 'open' : ''}`} aria-label="Chat sessions">
        <button type="button" class="btn btn-primary btn-block" data-testid="new-chat" onClick={() => { void newChat(); }}>
          + New chat
        </button>
        <ErrorBox error={sessionsError} testId="sessions-error" />
        {sessionsLoading ? <p class="muted"><Spinner /> Loading sessions…</p>
          : sessions.length === 0 ? <p class="muted small">No conversations yet.</p>
            : (
              <ul class="session-list" data-testid="session-list">
                {sessions.map((s) => {
                  const expired = isExpired(s);
                  const other = s.user_id && s.user_id !== me.user_id;
                  return (
                    <li key={s.session_id}>
                      <button type="button" class={`session-item ${s.session_id === activeId ? 'active' : ''}`}
                        aria-current={s.session_id === activeId ? 'true' : undefined} data-testid="session-item"
                        data-session-id={s.session_id} onClick={() => { void selectSession(s.session_id); }}>
                        <span class="session-title">{s.title || 'New chat'}</span>
                        <span class="session-meta">
                          {relative(s.last_active_at ?? s.created_at)}
                          {typeof s.message_count === 'number' && ` · ${s.message_count} msg`}
                          {expired && <span class="badge badge-muted">expired</span>}
                          {other && <span class="badge" title={`User ${s.user_id}`}>other user</span>}
                        </span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
      </nav>

      <section class="conversation" aria-label="Conversation">
        <div class="conversation-head">
          <button type="button" class="btn btn-ghost btn-small sessions-toggle" aria-expanded={sidebarOpen}
            onClick={() => setSidebarOpen(!sidebarOpen)}>Sessions</button>
          <h2 class="conversation-title">{active?.title || (activeId ? 'Conversation' : 'New conversation')}</h2>
          {active?.expires_at && (
            <span class="muted small" title={dateTime(active.expires_at)}>
              {activeExpired ? 'Session expired' : `Session expires ${relative(active.expires_at)}`}
            </span>
          )}
        </div>
        <div class="messages" ref={scrollRef} onScroll={onScroll} data-testid="messages" aria-live="polite"
          aria-relevant="additions text">
          {historyLoading && <p class="muted center"><Spinner /> Loading conversation…</p>}
          <ErrorBox error={historyError} testId="history-error" />
          {!historyLoading && items.length === 0 && !historyError && (
            <div class="empty-state">
              <h3>How can I help?</h3>
              <p class="muted">Ask anything. Tools your plan includes (like weather) are used automatically.</p>
              <div class="suggestions">
                {SUGGESTIONS.map((s) => (
                  <button type="button" key={s} class="chip" disabled={sending}
                    onClick={() => { void sendMessage(s); }}>{s}</button>
                ))}
              </div>
            </div>
          )}
          {items.map((it) => <MessageView key={it.key} item={it} />)}
        </div>
        <form class="composer" onSubmit={(e) => { e.preventDefault(); void sendMessage(input); }}>
          <label for="chat-input" class="sr-only">Message</label>
          <textarea id="chat-input" ref={inputRef} rows={2} placeholder="Send a message (Enter to send, Shift+Enter for a new line)"
            data-testid="chat-input" value={input} onInput={(e) => setInput(e.currentTarget.value)} onKeyDown={onKeyDown}
            disabled={activeExpired} maxLength={32000} />
          {sending
            ? <button type="button" class="btn btn-secondary" data-testid="stop-button" onClick={stop}>Stop</button>
            : <button type="submit" class="btn btn-primary" data-testid="send-button"
              disabled={!input.trim() || activeExpired}>Send</button>}
        </form>
      </section>
    </div>
  );
}
