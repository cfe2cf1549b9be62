// Top bar: identity, tenant, tier, role, the app's pages (the approvals link counts what waits for
// the user; Connections is listed for tenant admins only); admins can create invitation codes.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, networkError, post } from './api';
import { ErrorBox, Link, Logo } from './components';
import { capitalize, dateTime, relative } from './format';
import type { Me } from './types';

function InviteDialog({ me, onClose }: { me: Me; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [invite, setInvite] = useState<{ invite_code: string; expires_at?: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    dialogRef.current?.querySelector<HTMLElement>('button')?.focus();
    const onKey = (e: KeyboardEvent): void => { if (e.key === 'Escape') onClose(); };
    document.addEventListener('keydown', onKey);
    return () => { document.removeEventListener('keydown', onKey); prev?.focus(); };
  }, [onClose]);

  const create = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await post<{ invite_code: string; expires_at?: string }>(`/api/tenants/${enc(me.tenant_id)}/invitations`, {}));
    } catch (e) {
      setError(networkError(e));
    } finally {
      setBusy(false);
    }
  };

  const copy = async (): Promise<void> => {
    if (!invite) return;
    try {
      await navigator.clipboard.writeText(invite.invite_code);
      setCopied(true);
    } catch { /* clipboard not available (e.g. plain http): the code is selectable */ }
  };

  return (
    <div class="modal-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="invite-title" ref={dialogRef}
        data-testid="invite-dialog">
        <h2 id="invite-title">Invite a colleague</h2>
        <p class="muted">Create a one-time invitation code for <strong>{me.tenant_name}</strong>. The new member
          chooses “Join with invitation code” when creating an account and joins as a regular user.</p>
        {invite && (
          <div class="invite-result">
            <label for="invite-code-value">Invitation code</label>
            <div class="input-with-button">
              <input id="invite-code-value" readOnly value={invite.invite_code} data-testid="invite-code"
                onFocus={(e) => e.currentTarget.select()} />
              <button type="button" class="btn btn-secondary btn-small" onClick={() => { void copy(); }}>
                {copied ? 'Copied' : 'Copy'}</button>
            </div>
            {invite.expires_at && (
              <p class="hint" data-testid="invite-expires">Expires {relative(invite.expires_at)} ({dateTime(invite.expires_at)}).</p>
            )}
          </div>
        )}
        <ErrorBox error={error} testId="invite-error" />
        <div class="modal-actions">
          <button type="button" class="btn btn-ghost" onClick={onClose} data-testid="invite-close">Close</button>
          <button type="button" class="btn btn-primary" onClick={() => { void create(); }} disabled={busy}
            data-testid="invite-create">{busy ? 'Creating…' : invite ? 'Create another code' : 'Create invitation code'}</button>
        </div>
      </div>
    </div>
  );
}

/** Tenant admins: the API's own test (membership of the tenant's admins group) or the role it reports. */
export function isTenantAdmin(me: Me): boolean {
  return me.role === 'admin' || (me.groups ?? []).includes(`${me.tenant_id}-admins`);
}

function NavLinks({ path, navigate, pendingApprovals, isAdmin }: {
  path: string; navigate: (to: string) => void; pendingApprovals: number; isAdmin: boolean;
}) {
  const item = (href: string, label: string, testId: string, extra?: ComponentChildren) => (
    <li class={path === href ? 'active' : ''} aria-current={path === href ? 'page' : undefined}>
      <Link href={href} navigate={navigate} testId={testId}>{label}{extra}</Link>
    </li>
  );
  return (
    <nav class="main-nav" aria-label="Pages">
      <ul>
        {item('/', 'Chat', 'nav-chat')}
        {item('/approvals', 'Approvals', 'nav-approvals', pendingApprovals > 0
          ? <span class="nav-count" data-testid="nav-pending-count" aria-label={`${pendingApprovals} waiting`}>{pendingApprovals}</span>
          : undefined)}
        {item('/connected-accounts', 'Connected accounts', 'nav-accounts')}
        {isAdmin && item('/connections', 'Connections', 'nav-connections')}
      </ul>
    </nav>
  );
}

export function Header({ me, onLogout, path, navigate, pendingApprovals }: {
  me: Me; onLogout: () => void; path: string; navigate: (to: string) => void; pendingApprovals: number;
}) {
  const [inviting, setInviting] = useState(false);
  const closeInvite = useCallback(() => setInviting(false), []);
  const isAdmin = isTenantAdmin(me);
  const tier = me.subscription_tier;
  return (
    <header class="topbar">
      <div class="brand"><Logo /><span>Gatehouse</span></div>
      <div class="tenant">
        <span class="tenant-name" data-testid="user-tenant" title={`Tenant ${me.tenant_id}`}>{me.tenant_name || me.tenant_id}</span>
        <span class={`tier-badge tier-${tier}`} data-testid="user-tier">{capitalize(tier)}</span>
      </div>
      <NavLinks path={path} navigate={navigate} pendingApprovals={pendingApprovals} isAdmin={isAdmin} />
      <div class="spacer" />
      {isAdmin && (
        <button type="button" class="btn btn-secondary btn-small" data-testid="invite-button" onClick={() => setInviting(true)}>
          Invite
        </button>
      )}
      <div class="identity">
        <span class="user-email" data-testid="user-email">{me.email}</span>
        <span class={`badge ${isAdmin ? 'badge-admin' : ''}`} data-testid="user-role">{me.role}</span>
      </div>
      <button type="button" class="btn btn-ghost btn-small" data-testid="logout-button" onClick={onLogout}>Log out</button>
      {inviting && <InviteDialog me={me} onClose={closeInvite} />}
    </header>
  );
}
