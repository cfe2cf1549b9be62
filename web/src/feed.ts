// The signed-in user's live feed (GET /api/me/events, Server-Sent Events): approval requests and
// decisions, conversations that went on after an approval, connected-account changes. EventSource
// cannot send a bearer token, so this reads the stream with fetch (through api.send, which
// refreshes an expired access token once) and reconnects with a growing delay when it ends.
// One connection per page, shared by every view that listens; it runs while someone listens.
import { send } from './api';
import { parseJson, readEventStream } from './sse';

export interface FeedMessage {
  event: string;
  data: unknown;
}

type Listener = (m: FeedMessage) => void;

const MAX_DELAY_MS = 15000;

class UserFeed {
  private listeners = new Set<Listener>();
  private controller: AbortController | null = null;
  private connected = false;

  /** Whether the stream is open now (after its `ready` event): a view mounted later starts from this. */
  get live(): boolean { return this.connected; }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    if (!this.controller) this.start();
    return () => {
      this.listeners.delete(l);
      if (!this.listeners.size) this.stop();
    };
  }

  private emit(m: FeedMessage): void {
    if (m.event === 'ready') this.connected = true;
    else if (m.event === 'disconnected' || m.event === 'feed_closed') this.connected = false;
    for (const l of [...this.listeners]) {
      try { l(m); } catch { /* a listener's bug must not end the feed */ }
    }
  }

  private start(): void {
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
  }

  private stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.connected = false;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const res = await send('GET', '/api/me/events', { headers: { accept: 'text/event-stream' }, signal });
        for await (const ev of readEventStream(res, signal)) {
          if (ev.event === 'ready') delay = 500;
          this.emit({ event: ev.event, data: parseJson(ev.data) });
          if (ev.event === 'reauthenticate') break;  // the token ended: reconnect (refreshing it)
        }
      } catch (e) {
        if (signal.aborted) return;
        const status = (e as { status?: number }).status;
        if (status === 401 || status === 403) {
          this.emit({ event: 'feed_closed', data: null });
          return;  // signed out: the app returns to the login screen
        }
      }
      if (signal.aborted) return;
      this.emit({ event: 'disconnected', data: null });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

export const userFeed = new UserFeed();
