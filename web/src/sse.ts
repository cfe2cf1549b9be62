// Incremental text/event-stream parser (WHATWG "event stream interpretation"), fed with decoded
// text chunks as they arrive from fetch(). Handles CRLF / CR / LF line ends split across chunks,
// comment lines (": keepalive"), multi-line data, and a last event without a trailing blank line.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private pendingCR = false;
  private eventName = '';
  private dataLines: string[] = [];
  private lastId: string | undefined;

  /** Feeds a chunk; returns the events completed by it. */
  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (this.pendingCR) {
      // A CR ended the previous chunk: a directly following LF belongs to the same line end.
      if (text.startsWith('\n')) text = text.slice(1);
      this.pendingCR = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      this.processLine(line, out);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Call at end of stream: dispatches a final event that had no terminating blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer.length) {
      this.processLine(this.buffer, out);
      this.buffer = '';
    }
    this.processLine('', out);
    return out;
  }

  private processLine(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length) {
        const ev: SseEvent = { event: this.eventName || 'message', data: this.dataLines.join('\n') };
        if (this.lastId !== undefined) ev.id = this.lastId;
        out.push(ev);
      }
      this.eventName = '';
      this.dataLines = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event': this.eventName = value; break;
      case 'data': this.dataLines.push(value); break;
      case 'id': if (!value.includes('\0')) this.lastId = value; break;
      default: break; // "retry" and unknown fields are irrelevant for a one-shot POST stream.
    }
  }
}

/** Reads a streaming Response body and yields parsed events as soon as each one is complete. */
export async function* readEventStream(res: Response, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  if (!res.body) {
    const parser = new SseParser();
    yield* parser.feed(await res.text());
    yield* parser.end();
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const onAbort = (): void => { void reader.cancel().catch(() => undefined); };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value) yield* parser.feed(value);
    }
    yield* parser.end();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}
