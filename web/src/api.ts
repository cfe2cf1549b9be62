// HTTP client for the Gatehouse API (docs/api.md): JSON helpers, error mapping, bearer tokens kept
// in memory + sessionStorage, and one transparent refresh-and-retry when the access token expired.
import type { TokenSet } from './types';

const STORAGE_KEY = 'gatehouse.auth';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra fields of the error object besides code/message (e.g. rule lists, reset times). */
  readonly details: Record<string, unknown>;
  /** Seconds from the Retry-After header, when present. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {},
    retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRetryAfter(res: Response): number | null {
  const raw = res.headers.get('retry-after');
  if (!raw) return null;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const when = Date.parse(raw);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

const statusText: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'You are not signed in.',
  403: 'You do not have access to this.',
  404: 'Not found.',
  409: 'This conflicts with existing data.',
  413: 'The request is too large.',
  422: 'Some input is not valid.',
  429: 'Too many requests. Please wait a moment.',
  500: 'The server had a problem. Please try again.',
  502: 'The server is not reachable right now.',
  503: 'The service is not ready yet. Please try again shortly.',
};

/** Builds an ApiError from a non-2xx response ({"error": {code, message, ...}} or anything else). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await res.text().catch(() => '');
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  const err = isRecord(body) && isRecord(body['error']) ? body['error'] : null;
  const code = err && typeof err['code'] === 'string' ? err['code'] : `http_${res.status}`;
  const message = err && typeof err['message'] === 'string' && err['message']
    ? err['message']
    : statusText[res.status] ?? `Request failed (HTTP ${res.status}).`;
  const details: Record<string, unknown> = {};
  if (err) for (const [k, v] of Object.entries(err)) if (k !== 'code' && k !== 'message') details[k] = v;
  return new ApiError(res.status, code, message, details, parseRetryAfter(res));
}

export function networkError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof DOMException && e.name === 'AbortError') return new ApiError(0, 'aborted', 'Cancelled.');
  return new ApiError(0, 'network_error', 'Cannot reach the Gatehouse server. Check your connection and try again.');
}

// ---- token storage ---------------------------------------------------------------------------

type Listener = () => void;

class TokenStore {
  private tokens: TokenSet | null = null;
  private listeners = new Set<Listener>();

  constructor() {
    try {
      const raw = sessionStorage.getItem(STORAGE_KEY);
      if (raw) {
        const parsed = JSON.parse(raw) as unknown;
        if (isRecord(parsed) && typeof parsed['access_token'] === 'string'
          && typeof parsed['refresh_token'] === 'string') {
          this.tokens = parsed as unknown as TokenSet;
        }
      }
    } catch { /* storage unavailable: memory only */ }
  }

  get(): TokenSet | null { return this.tokens; }

  set(t: TokenSet | null): void {
    this.tokens = t;
    try {
      if (t) sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
        access_token: t.access_token, refresh_token: t.refresh_token, id_token: t.id_token,
        token_type: t.token_type, expires_in: t.expires_in,
      }));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch { /* ignore */ }
    for (const l of this.listeners) l();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }
}

export const tokens = new TokenStore();

/** Called when the refresh token is no longer accepted: the UI returns to the login screen. */
let onSessionExpired: (() => void) | null = null;
export function setSessionExpiredHandler(fn: () => void): void { onSessionExpired = fn; }

// ---- requests --------------------------------------------------------------------------------

interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function buildInit(method: string, opts: RequestOptions, accessToken: string | null): RequestInit {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (accessToken) headers['authorization'] = `Bearer ${accessToken}`;
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (opts.signal) init.signal = opts.signal;
  return init;
}

let refreshing: Promise<boolean> | null = null;

/** Exchanges the refresh token (rotated by the server). One refresh at a time for all callers. */
function refreshTokens(): Promise<boolean> {
  if (refreshing) return refreshing;
  const current = tokens.get();
  if (!current) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch('/api/auth/refresh',
        buildInit('POST', { body: { refresh_token: current.refresh_token } }, null));
      if (!res.ok) {
        // 401 invalid_grant: the session is over (or the refresh token family was revoked).
        if (res.status === 400 || res.status === 401) {
          tokens.set(null);
          onSessionExpired?.();
        }
        return false;
      }
      tokens.set((await res.json()) as TokenSet);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const REFRESHABLE = new Set(['token_expired', 'invalid_token']);

/**
 * Performs a request and returns the raw Response when it is 2xx; throws ApiError otherwise.
 * Authenticated calls that fail with 401 token_expired / invalid_token refresh once and retry.
 */
export async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const auth = opts.auth ?? true;
  const attempt = (): Promise<Response> => fetch(path, buildInit(method, opts, auth ? tokens.get()?.access_token ?? null : null));
  let res: Response;
  try {
    res = await attempt();
    if (auth && res.status === 401 && tokens.get()) {
      const err = await errorFromResponse(res);
      if (!REFRESHABLE.has(err.code) || !(await refreshTokens())) {
        if (!REFRESHABLE.has(err.code)) throw err;
        throw new ApiError(401, 'session_expired', 'Your session has expired. Please log in again.');
      }
      res = await attempt();
    }
  } catch (e) {
    throw networkError(e);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts);
  const text = await res.text();
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    throw new ApiError(res.status, 'invalid_response', 'The server sent an unexpected response.');
  }
}

export const get = <T>(path: string, opts: RequestOptions = {}): Promise<T> => request<T>('GET', path, opts);
export const post = <T>(path: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> =>
  request<T>('POST', path, { ...opts, body });

export async function logout(): Promise<void> {
  const t = tokens.get();
  tokens.set(null);
  if (t) {
    try {
      await fetch('/api/auth/logout',
        buildInit('POST', { body: { refresh_token: t.refresh_token } }, t.access_token));
    } catch { /* best effort */ }
  }
}

export const enc = encodeURIComponent;
