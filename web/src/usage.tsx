// Usage dashboard: today's and this month's messages against the plan limits, tokens, plan features
// and (when the server provides a per-day history) a small chart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, get } from './api';
import { mountUsageChart, normalizeHistory } from './chart';
import { ErrorBox, Spinner } from './components';
import { capitalize, durationSeconds, humanize, isNum, isRecord, num } from './format';
import type { Subscription, Usage, UsagePeriod } from './types';

function hasLimit(limit: unknown): limit is number {
  return isNum(limit) && limit >= 0;
}

function Meter({ label, period, testId, periodLabel }: {
  label: string; period: UsagePeriod | undefined; testId: string; periodLabel?: string | undefined;
}) {
  const used = period?.messages ?? 0;
  const limit = period?.limit;
  const limited = hasLimit(limit);
  const remaining = isNum(period?.remaining) ? period.remaining : limited ? Math.max(0, limit - used) : null;
  const pct = limited ? (limit === 0 ? 100 : Math.min(100, (used / limit) * 100)) : 0;
  const level = pct >= 100 ? 'full' : pct >= 80 ? 'high' : 'ok';
  const labelId = `${testId}-label`;
  return (
    <div class="meter" data-testid={`${testId}-meter`}>
      <div class="meter-head">
        <span id={labelId} class="meter-label">{label}</span>
        <span class="meter-figures">
          <strong data-testid={`usage-messages-${testId}`}>{num(used)}</strong>
          <span class="muted"> / </span>
          <span data-testid={`usage-limit-${testId}`}>{limited ? num(limit) : 'Unlimited'}</span>
        </span>
      </div>
      {limited && (
        <div class={`progress progress-${level}`} role="progressbar" aria-labelledby={labelId}
          aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)}
          aria-valuetext={`${used} of ${limit} messages used`}>
          <div class="progress-bar" style={{ width: `${pct}%` }} />
        </div>
      )}
      <div class="meter-foot muted">
        <span>
          {remaining !== null
            ? <><span data-testid={`usage-remaining-${testId}`}>{num(remaining)}</span> remaining</>
            : 'No limit on this plan'}
        </span>
        {periodLabel && <span class="meter-period">{periodLabel}</span>}
      </div>
    </div>
  );
}

// ---- plan features ---------------------------------------------------------------------------

const UNIT_SUFFIX = /_(minutes|mins|min|seconds|secs|sec|s|hours|hrs|h|ms)$/;

function featureLabel(key: string): string {
  const k = key.replace(UNIT_SUFFIX, '');
  const known: Record<string, string> = {
    max_concurrent_sessions: 'Concurrent sessions', concurrent_sessions: 'Concurrent sessions',
    session_duration: 'Session duration', session_ttl: 'Session duration', max_session_duration: 'Session duration',
    tools: 'Tools', allowed_tools: 'Tools', messages_per_day: 'Messages per day', daily_messages: 'Messages per day',
    messages_per_month: 'Messages per month', monthly_messages: 'Messages per month',
  };
  return known[k] ?? humanize(k);
}

function featureValue(key: string, v: unknown): string {
  if (v === null || v === undefined) return 'Unlimited';
  if (typeof v === 'boolean') return v ? 'Included' : 'Not included';
  if (typeof v === 'number') {
    if (v < 0) return 'Unlimited';
    const unit = UNIT_SUFFIX.exec(key)?.[1];
    if (unit === 'ms') return durationSeconds(v / 1000);
    if (unit && unit.startsWith('m')) return durationSeconds(v * 60);
    if (unit && unit.startsWith('h')) return durationSeconds(v * 3600);
    if (unit && unit.startsWith('s')) return durationSeconds(v);
    return num(v);
  }
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const names = v.map((x) => (typeof x === 'string' ? x : isRecord(x) && typeof x['name'] === 'string' ? x['name'] : ''))
      .filter(Boolean);
    return names.length ? names.join(', ') : 'None';
  }
  if (isRecord(v)) {
    const parts = Object.entries(v).map(([k, x]) => (x === true ? k : x === false ? '' : `${k}: ${featureValue(k, x)}`))
      .filter(Boolean);
    return parts.length ? parts.join(', ') : 'None';
  }
  return String(v);
}

const FEATURE_ORDER = [/tier|name/, /day|daily/, /month/, /concurrent/, /tool/, /duration|ttl/];

function orderOf(key: string): number {
  const i = FEATURE_ORDER.findIndex((re) => re.test(key));
  return i < 0 ? FEATURE_ORDER.length : i;
}

function PlanFeatures({ plan }: { plan: Record<string, unknown> | undefined }) {
  if (!plan || !Object.keys(plan).length) return <p class="muted">Plan details are not available.</p>;
  const entries = Object.entries(plan).filter(([k]) => k !== 'tier' && k !== 'name')
    .sort(([a], [b]) => orderOf(a) - orderOf(b) || a.localeCompare(b));
  return (
    <dl class="features" data-testid="plan-features">
      {entries.map(([k, v]) => (
        <div class="feature" key={k} data-testid={`plan-feature-${k}`}>
          <dt>{featureLabel(k)}</dt>
          <dd>{featureValue(k, v)}</dd>
        </div>
      ))}
    </dl>
  );
}

// ---- chart -----------------------------------------------------------------------------------

function HistoryChart({ history }: { history: unknown }) {
  const ref = useRef<HTMLDivElement>(null);
  const points = normalizeHistory(history);
  const key = JSON.stringify(points);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || points.length < 1) return undefined;
    let cleanup: (() => void) | null = null;
    let cancelled = false;
    el.replaceChildren();
    mountUsageChart(el, points).then((c) => { if (cancelled) c(); else cleanup = c; })
      .catch(() => { if (!cancelled) setFailed(true); });
    return () => { cancelled = true; cleanup?.(); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  if (!points.length) return null;
  return (
    <section class="panel-section" aria-labelledby="usage-chart-title">
      <h3 id="usage-chart-title">Daily activity</h3>
      {failed ? <p class="muted">The chart could not be drawn.</p>
        : <div ref={ref} class="chart" data-testid="usage-chart" role="img"
          aria-label={`Messages and tokens per day for the last ${points.length} days`} />}
      {!failed && (
        <div class="chart-legend" aria-hidden="true">
          <span><i class="swatch swatch-msgs" />Messages</span><span><i class="swatch swatch-toks" />Tokens</span>
        </div>
      )}
    </section>
  );
}

// ---- panel -----------------------------------------------------------------------------------

export function UsagePanel({ tenantId, refreshKey }: { tenantId: string; refreshKey: number }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [sub, setSub] = useState<Subscription | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [manual, setManual] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    const base = `/api/tenants/${enc(tenantId)}`;
    Promise.allSettled([get<Usage>(`${base}/usage`), get<Subscription>(`${base}/subscription`)]).then(([u, s]) => {
      if (cancelled) return;
      if (u.status === 'fulfilled') setUsage(u.value);
      if (s.status === 'fulfilled') setSub(s.value);
      const failure = u.status === 'rejected' ? u.reason : s.status === 'rejected' ? s.reason : null;
      setError(failure ? (failure instanceof ApiError ? failure : new ApiError(0, 'unknown', String(failure))) : null);
      setUpdatedAt(new Date());
      setLoading(false);
    });
    return () => { cancelled = true; };
  }, [tenantId, refreshKey, manual]);

  const tier = sub?.subscription_tier ?? usage?.subscription_tier ?? '';
  const day = usage?.day;
  const month = usage?.month;

  return (
    <aside class="usage-panel" aria-labelledby="usage-title" data-testid="usage-panel"
      data-loading={loading ? 'true' : 'false'}>
      <div class="panel-head">
        <h2 id="usage-title">Usage</h2>
        <button type="button" class="btn btn-ghost btn-small" onClick={() => setManual((m) => m + 1)}
          disabled={loading} data-testid="usage-refresh" aria-label="Refresh usage">
          {loading ? <Spinner label="Refreshing usage" /> : 'Refresh'}
        </button>
      </div>
      <ErrorBox error={error} testId="usage-error" />
      {tier && (
        <div class="plan-banner">
          <span class={`tier-badge tier-${tier}`} data-testid="usage-tier">{capitalize(tier)}</span>
          <span class="muted">plan{sub?.tenant_name ? ` · ${sub.tenant_name}` : ''}</span>
        </div>
      )}
      {usage ? (
        <>
          <section class="panel-section" aria-label="Messages">
            <Meter label="Messages today" periodLabel={day?.date} period={day} testId="today" />
            <Meter label="Messages this month" periodLabel={month?.month} period={month} testId="month" />
          </section>
          <section class="panel-section" aria-labelledby="tokens-title">
            <h3 id="tokens-title">Tokens</h3>
            <table class="token-table">
              <thead><tr><th scope="col" /><th scope="col">Input</th><th scope="col">Output</th><th scope="col">Total</th></tr></thead>
              <tbody>
                <tr data-testid="usage-tokens-today">
                  <th scope="row">Today</th><td>{num(day?.input_tokens)}</td><td>{num(day?.output_tokens)}</td>
                  <td>{num((day?.input_tokens ?? 0) + (day?.output_tokens ?? 0))}</td>
                </tr>
                <tr data-testid="usage-tokens-month">
                  <th scope="row">Month</th><td>{num(month?.input_tokens)}</td><td>{num(month?.output_tokens)}</td>
                  <td>{num((month?.input_tokens ?? 0) + (month?.output_tokens ?? 0))}</td>
                </tr>
              </tbody>
            </table>
          </section>
          <HistoryChart history={usage.history} />
        </>
      ) : !error && <p class="muted"><Spinner /> Loading usage…</p>}
      <section class="panel-section" aria-labelledby="plan-title">
        <h3 id="plan-title">Plan features</h3>
        {sub ? <PlanFeatures plan={sub.plan} /> : !error && <p class="muted">Loading…</p>}
      </section>
      {updatedAt && <p class="muted small">Updated {updatedAt.toLocaleTimeString()}</p>}
    </aside>
  );
}
