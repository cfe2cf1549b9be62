// Small shared building blocks.
import type { ComponentChildren } from 'preact';
import { ApiError } from './api';
import { durationSeconds, humanize, isRecord } from './format';

/** Shows an API error: its message plus any list-like details the server sent (e.g. password rules). */
export function ErrorBox({ error, testId = 'form-error', children }: {
  error: ApiError | string | null; testId?: string; children?: ComponentChildren;
}) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  const items: string[] = [];
  if (error instanceof ApiError) {
    for (const [key, value] of Object.entries(error.details)) {
      if (Array.isArray(value)) {
        for (const v of value) if (typeof v === 'string') items.push(v);
      } else if (isRecord(value)) {
        for (const [k, v] of Object.entries(value)) if (typeof v === 'string') items.push(`${humanize(k)}: ${v}`);
      } else if (key === 'field' && typeof value === 'string') {
        items.push(`Field: ${humanize(value)}`);
      }
    }
    if (error.retryAfter !== null && error.status === 429) items.push(`Try again in ${durationSeconds(error.retryAfter)}.`);
  }
  return (
    <div class="alert alert-error" role="alert" data-testid={testId}
      data-error-code={error instanceof ApiError ? error.code : undefined}>
      <p class="alert-title">{message}</p>
      {items.length > 0 && <ul>{items.map((i) => <li key={i}>{i}</li>)}</ul>}
      {children}
    </div>
  );
}

export function Notice({ children, testId }: { children: ComponentChildren; testId?: string }) {
  return <div class="alert alert-info" role="status" data-testid={testId}>{children}</div>;
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span class="spinner" role="status" aria-label={label} />;
}

export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" class="logo">
      <rect x="2" y="2" width="28" height="28" rx="7" fill="currentColor" />
      <path d="M9 24V13l7-5 7 5v11h-4.5v-6h-5v6z" fill="#fff" />
    </svg>
  );
}

/** Centered card used by the sign-up / verify / log-in screens. */
export function AuthCard({ title, subtitle, children, footer }: {
  title: string; subtitle?: string; children: ComponentChildren; footer?: ComponentChildren;
}) {
  return (
    <main class="auth-page">
      <div class="auth-brand"><Logo size={36} /><span>Gatehouse</span></div>
      <section class="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title">{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
        {children}
      </section>
      {footer && <p class="auth-footer">{footer}</p>}
    </main>
  );
}

export function Link({ href, navigate, children, testId }: {
  href: string; navigate: (to: string) => void; children: ComponentChildren; testId?: string;
}) {
  return (
    <a href={href} data-testid={testId} onClick={(e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(href);
    }}>{children}</a>
  );
}
