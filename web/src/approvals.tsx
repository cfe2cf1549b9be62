// Approvals page: what waits for the user's yes or no — a trusted backend client's CIBA request
// (binding message, scope, RFC 9396 authorization details) or an agent's tool call held by a rule
// — and what was decided recently. The list loads from GET /api/me/approvals and then follows the
// live feed (approval_requested / approval_updated), so a new request appears without reloading.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, get, networkError, post } from './api';
import { ErrorBox, Notice, Spinner } from './components';
import { userFeed } from './feed';
import { dateTime, humanize, isRecord, relative } from './format';
import type { Approval } from './types';

const STATUS_LABELS: Record<string, string> = {
  pending: 'Waiting for you', approved: 'Approved', consumed: 'Approved', executing: 'Running',
  completed: 'Done', failed: 'Failed', interrupted: 'Interrupted', denied: 'Denied', expired: 'Expired',
};

function statusClass(status: string): string {
  if (status === 'pending' || status === 'executing') return 'status-pending';
  if (status === 'denied' || status === 'failed' || status === 'interrupted') return 'status-denied';
  if (status === 'expired') return 'status-expired';
  return 'status-approved';
}

function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function scalarText(v: string | number | boolean | null): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  return String(v);
}

/** A value as people read it: amounts with their currency, lists joined, objects as nested fields. */
function Value({ value }: { value: unknown }) {
  if (isScalar(value)) return <span>{scalarText(value)}</span>;
  if (Array.isArray(value)) {
    if (value.every(isScalar)) return <span>{value.map(scalarText).join(', ')}</span>;
    return <ul class="detail-items">{value.map((v, i) => <li key={i}><Value value={v} /></li>)}</ul>;
  }
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 2 && 'amount' in value && 'currency' in value && isScalar(value['amount']) && isScalar(value['currency'])) {
      return <span>{scalarText(value['amount'])} {scalarText(value['currency'])}</span>;
    }
    return <Fields record={value} />;
  }
  return <span>{String(value)}</span>;
}

function Fields({ record, skip = [] }: { record: Record<string, unknown>; skip?: string[] }) {
  const entries = Object.entries(record).filter(([k]) => !skip.includes(k));
  if (!entries.length) return <span class="muted">No details</span>;
  return (
    <dl class="detail-fields">
      {entries.map(([k, v]) => (
        <div class="detail-field" key={k}>
          <dt>{humanize(k)}</dt>
          <dd><Value value={v} /></dd>
        </div>
      ))}
    </dl>
  );
}

/** RFC 9396 authorization details: one block per entry, titled by its type. */
function AuthorizationDetails({ details }: { details: unknown }) {
  if (!Array.isArray(details) || !details.length) return null;
  return (
    <div class="authz-details" data-testid="authorization-details">
      {details.map((d, i) => (
        <section class="authz-detail" key={i}>
          <h4>{isRecord(d) && typeof d['type'] === 'string' ? humanize(d['type']) : 'Detail'}</h4>
          {isRecord(d) ? <Fields record={d} skip={['type']} /> : <Value value={d} />}
        </section>
      ))}
    </div>
  );
}

function outcomeText(a: Approval): string | null {
  if (!a.outcome) return null;
  const r = a.outcome.result;
  if (isRecord(r) && typeof r['error'] === 'string') return r['error'];
  if (isRecord(r) && typeof r['status'] === 'number') return `The service answered with status ${r['status']}.`;
  return a.outcome.is_error ? 'The action failed.' : 'The action ran.';
}

function ApprovalCard({ approval, onDecided }: { approval: Approval; onDecided: (a: Approval) => void }) {
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const pending = approval.status === 'pending';

  const decide = async (what: 'approve' | 'deny'): Promise<void> => {
    setBusy(what);
    setError(null);
    try {
      // A tool call is approved for exactly the arguments shown here.
      const body = approval.tool ? { arguments_hash: approval.tool.arguments_hash } : {};
      onDecided(await post<Approval>(`/api/me/approvals/${enc(approval.id)}/${what}`, body));
    } catch (e) {
      setError(networkError(e));
    } finally {
      setBusy(null);
    }
  };

  const who = approval.kind === 'ciba'
    ? <>Sign-in request from the application <strong>{approval.client_name ?? approval.client_id}</strong></>
    : <>Your assistant wants to run <strong>{approval.tool?.name ?? 'a tool'}</strong></>;
  const outcome = outcomeText(approval);
  return (
    <article class={`card approval-card ${pending ? 'approval-pending' : ''}`} data-testid="approval-card"
      data-approval-id={approval.id} data-status={approval.status}>
      <header class="approval-head">
        <span class="approval-kind muted">{who}</span>
        <span class={`approval-status ${statusClass(approval.status)}`} data-testid="approval-status">
          {STATUS_LABELS[approval.status] ?? humanize(approval.status)}</span>
      </header>
      <p class="approval-message" data-testid="approval-message">{approval.binding_message}</p>
      {approval.kind === 'ciba' && approval.scope && (
        <div class="approval-scopes">
          <span class="muted small">Access asked for:</span>
          {approval.scope.split(' ').filter(Boolean).map((s) => <span class="chip chip-static" key={s}>{s}</span>)}
        </div>
      )}
      {approval.kind === 'ciba' && <AuthorizationDetails details={approval.authorization_details} />}
      {approval.tool && (
        <div class="authz-details" data-testid="tool-arguments">
          <section class="authz-detail">
            <h4>{humanize(approval.tool.name)}</h4>
            {isRecord(approval.tool.arguments) ? <Fields record={approval.tool.arguments} /> : <Value value={approval.tool.arguments} />}
          </section>
        </div>
      )}
      {outcome && <p class={`approval-outcome ${approval.outcome?.is_error ? 'status-denied' : ''}`} data-testid="approval-outcome">{outcome}</p>}
      <p class="approval-times muted small">
        Asked {relative(approval.created_at)}
        {pending && <> · expires {relative(approval.expires_at)} ({dateTime(approval.expires_at)})</>}
        {!pending && approval.decided_at && <> · decided {relative(approval.decided_at)}</>}
      </p>
      <ErrorBox error={error} testId="approval-error" />
      {pending && (
        <div class="approval-actions">
          <button type="button" class="btn btn-secondary" disabled={!!busy} data-testid="deny-button"
            onClick={() => { void decide('deny'); }}>{busy === 'deny' ? 'Denying…' : 'Deny'}</button>
          <button type="button" class="btn btn-primary" disabled={!!busy} data-testid="approve-button"
            onClick={() => { void decide('approve'); }}>{busy === 'approve' ? 'Approving…' : 'Approve'}</button>
        </div>
      )}
    </article>
  );
}

// How far a request has come: its state only moves forward, so an answer that arrives late (the
// approve call's own response after the pushed "completed") never takes it back.
const PROGRESS: Record<string, number> = {
  pending: 0, approved: 1, denied: 1, expired: 1, executing: 2, consumed: 3, completed: 3, failed: 3, interrupted: 3,
};
const progress = (a: Approval): number => (PROGRESS[a.status] ?? 0) * 2 + (a.resumed ? 1 : 0);

function upsert(list: Approval[], a: Approval): Approval[] {
  const i = list.findIndex((x) => x.id === a.id);
  if (i < 0) return [a, ...list];
  if (progress(list[i] as Approval) > progress(a)) return list;
  const next = list.slice();
  next[i] = a;
  return next;
}

const byNewest = (a: Approval, b: Approval): number => b.created_at.localeCompare(a.created_at);

export function ApprovalsView() {
  const [items, setItems] = useState<Approval[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [live, setLive] = useState(userFeed.live);

  const seen = useRef(0);  // feed events so far: one arriving while the list loads makes it load again

  const load = useCallback(async (): Promise<void> => {
    const before = seen.current;
    try {
      const res = await get<{ approvals: Approval[] }>('/api/me/approvals');
      setItems(res.approvals);
      setError(null);
      if (seen.current !== before) void load();
    } catch (e) {
      setError(networkError(e));
    }
  }, []);

  useEffect(() => {
    void load();
    return userFeed.subscribe((m) => {
      if (m.event === 'ready') {
        setLive(true);
        void load();  // catch up with anything missed while disconnected
      } else if (m.event === 'disconnected' || m.event === 'feed_closed') {
        setLive(false);
      } else if ((m.event === 'approval_requested' || m.event === 'approval_updated')
        && isRecord(m.data) && isRecord(m.data['approval'])) {
        const a = m.data['approval'] as unknown as Approval;
        seen.current += 1;
        setItems((list) => upsert(list ?? [], a));
      }
    });
  }, [load]);

  const onDecided = useCallback((a: Approval) => setItems((list) => upsert(list ?? [], a)), []);
  const pending = (items ?? []).filter((a) => a.status === 'pending').sort(byNewest);
  const recent = (items ?? []).filter((a) => a.status !== 'pending').sort(byNewest);

  return (
    <main class="page" data-testid="approvals-page">
      <div class="page-head">
        <h1>Approvals</h1>
        <span class={`live-dot ${live ? 'is-live' : ''}`} data-testid="feed-state" data-live={live ? 'yes' : 'no'}
          title={live ? 'New requests appear here as they arrive' : 'Reconnecting…'}>{live ? 'Live' : 'Offline'}</span>
      </div>
      <p class="muted page-intro">Applications and your assistant ask here before they act for you. Read what each
        request would do; nothing happens until you approve it.</p>
      <ErrorBox error={error} testId="approvals-error" />
      {items === null && !error && <p class="muted"><Spinner /> Loading…</p>}
      {items !== null && (
        <>
          <section class="page-section" aria-labelledby="pending-title">
            <h2 id="pending-title">Waiting for you <span class="badge" data-testid="pending-count">{pending.length}</span></h2>
            {pending.length === 0
              ? <Notice testId="no-pending">Nothing is waiting for your approval.</Notice>
              : <div class="approval-list" data-testid="pending-list">
                {pending.map((a) => <ApprovalCard key={a.id} approval={a} onDecided={onDecided} />)}</div>}
          </section>
          {recent.length > 0 && (
            <section class="page-section" aria-labelledby="recent-title">
              <h2 id="recent-title">Recent</h2>
              <div class="approval-list" data-testid="recent-list">
                {recent.map((a) => <ApprovalCard key={a.id} approval={a} onDecided={onDecided} />)}</div>
            </section>
          )}
        </>
      )}
    </main>
  );
}
