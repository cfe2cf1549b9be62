// Connected accounts page: the tenant's connections (configured by its admins) and the user's
// account at each. Connect starts the provider's consent (POST .../connect, then the browser goes to
// the authorization_url; the provider comes back to /oauth/callback, which returns here with
// ?connected=<id> or ?error=<code>). Disconnect forgets the tokens (revoked upstream where the
// provider supports it). An account whose refresh the provider refused needs re-consent: it is
// flagged and offers Reconnect. Status changes arrive on the live feed (connected_account).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, enc, get, networkError, post, request } from './api';
import { ErrorBox, Notice, Spinner } from './components';
import { userFeed } from './feed';
import { dateTime, humanize, relative } from './format';
import type { AvailableConnection, ConnectedAccount } from './types';

interface Listing { accounts: ConnectedAccount[]; connections: AvailableConnection[] }

const ERRORS: Record<string, string> = {
  connect_refused: 'You did not grant access at the provider, so nothing was connected.',
  state_expired: 'The sign-in at the provider took too long. Please start again.',
  invalid_state: 'The connection link expired or was already used. Please start again.',
  state_binding_mismatch: 'The connection was started in another browser or by another user. Please start again here.',
};

function queryParam(name: string): string {
  return new URLSearchParams(location.search).get(name) ?? '';
}

function ConnectionRow({ conn, account, onChanged }: {
  conn: AvailableConnection; account: ConnectedAccount | undefined; onChanged: () => void;
}) {
  const [busy, setBusy] = useState<'connect' | 'disconnect' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const status = account?.status ?? conn.status;
  const connected = status === 'connected';
  const reconsent = status === 'reconsent_required';

  const connect = async (): Promise<void> => {
    setBusy('connect');
    setError(null);
    try {
      const res = await post<{ authorization_url: string }>(
        `/api/me/connected-accounts/${enc(conn.connection_id)}/connect`, { return_to: '/connected-accounts' });
      location.assign(res.authorization_url);
    } catch (e) {
      setError(networkError(e));
      setBusy(null);
    }
  };

  const disconnect = async (): Promise<void> => {
    setBusy('disconnect');
    setError(null);
    try {
      await request('DELETE', `/api/me/connected-accounts/${enc(conn.connection_id)}`);
      onChanged();
    } catch (e) {
      setError(networkError(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <li class="card account-row" data-testid="account-row" data-connection-id={conn.connection_id} data-status={status}>
      <div class="account-main">
        <div class="account-title">
          <strong>{conn.display_name}</strong>
          {conn.preset && <span class="badge badge-muted">{conn.preset}</span>}
        </div>
        <div class="account-status small" data-testid="account-status">
          {connected && <span class="status-approved">Connected</span>}
          {reconsent && <span class="status-denied">Needs your consent again</span>}
          {!connected && !reconsent && <span class="muted">Not connected</span>}
          {account && <span class="muted"> · since {dateTime(account.connected_at)}</span>}
          {account?.refreshed_at && <span class="muted"> · refreshed {relative(account.refreshed_at)}</span>}
        </div>
        {reconsent && (
          <p class="small status-denied" data-testid="reconsent-note">The provider no longer accepts this connection
            {account?.last_error ? ` (${account.last_error})` : ''}. Reconnect to keep using it.</p>
        )}
        {(account?.scope || conn.scopes) && <p class="small muted account-scopes">Access: {account?.scope || conn.scopes}</p>}
        <ErrorBox error={error} testId="account-error" />
      </div>
      <div class="account-actions">
        {(connected || reconsent) && (
          <button type="button" class="btn btn-secondary btn-small" disabled={!!busy} data-testid="disconnect-button"
            onClick={() => { void disconnect(); }}>{busy === 'disconnect' ? 'Disconnecting…' : 'Disconnect'}</button>
        )}
        {!connected && (
          <button type="button" class="btn btn-primary btn-small" disabled={!!busy} data-testid="connect-button"
            onClick={() => { void connect(); }}>
            {busy === 'connect' ? 'Opening…' : reconsent ? 'Reconnect' : 'Connect'}</button>
        )}
      </div>
    </li>
  );
}

export function AccountsView({ navigate }: { navigate: (to: string, replace?: boolean) => void }) {
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [flash] = useState(() => ({ connected: queryParam('connected'), error: queryParam('error') }));

  const load = useCallback(async (): Promise<void> => {
    try {
      setListing(await get<Listing>('/api/me/connected-accounts'));
      setError(null);
    } catch (e) {
      setError(networkError(e));
    }
  }, []);

  useEffect(() => {
    // The provider's redirect left ?connected= or ?error= in the address: shown once, then dropped.
    if (flash.connected || flash.error) navigate('/connected-accounts', true);
    void load();
    return userFeed.subscribe((m) => { if (m.event === 'connected_account') void load(); });
  }, [load, flash, navigate]);

  const connectedName = flash.connected
    ? listing?.connections.find((c) => c.connection_id === flash.connected)?.display_name ?? flash.connected : '';
  return (
    <main class="page" data-testid="accounts-page">
      <div class="page-head"><h1>Connected accounts</h1></div>
      <p class="muted page-intro">Accounts at other services that your assistant may use for you. Their tokens are
        kept encrypted by Gatehouse; tools use them only when they run.</p>
      {/* Named once the listing is in, so the notice never shows the bare id first. */}
      {flash.connected && (listing || error) && <Notice testId="connected-notice">Connected {connectedName}.</Notice>}
      {flash.error && (
        <ErrorBox testId="connect-error"
          error={ERRORS[flash.error] ?? `The account could not be connected (${humanize(flash.error)}).`} />
      )}
      <ErrorBox error={error} testId="accounts-error" />
      {!listing && !error && <p class="muted"><Spinner /> Loading…</p>}
      {listing && listing.connections.length === 0 && (
        <Notice testId="no-connections">Your organisation has not set up any connections yet.</Notice>
      )}
      {listing && listing.connections.length > 0 && (
        <ul class="account-list" data-testid="account-list">
          {listing.connections.map((c) => (
            <ConnectionRow key={c.connection_id} conn={c} onChanged={() => { void load(); }}
              account={listing.accounts.find((a) => a.connection_id === c.connection_id)} />
          ))}
        </ul>
      )}
    </main>
  );
}
