// Connections page (tenant admins): the OAuth/OIDC providers the tenant's members may connect
// accounts at. Lists them (GET /api/tenants/{t}/connections), adds one from a provider preset
// (GET /api/connection-presets fills the endpoints) or from custom endpoints or an issuer to
// discover (POST), edits one (PUT sends only what changed: a field left out keeps its value) and
// deletes one after a confirmation (DELETE; members' accounts there are disconnected). The client
// secret is write-only: the API answers only whether one is set, and the field is never filled in.
// A failed save keeps everything typed; the API's message is shown beside the form and the field
// it names is marked. Members who are not admins get a plain "admins only" page.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, get, networkError, post, request } from './api';
import { ErrorBox, Notice, Spinner } from './components';
import { dateTime } from './format';
import { isTenantAdmin } from './header';
import type { Connection, ConnectionPreset, Me } from './types';

const CUSTOM = 'custom';

interface FormValues {
  preset: string;
  id: string;
  display_name: string;
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
  client_id: string;
  client_secret: string;
  scopes: string;
  token_endpoint_auth_method: string;
}

type Field = keyof FormValues;

const EMPTY: FormValues = {
  preset: CUSTOM, id: '', display_name: '', issuer: '', authorization_endpoint: '', token_endpoint: '',
  revocation_endpoint: '', client_id: '', client_secret: '', scopes: '', token_endpoint_auth_method: '',
};

function fromPreset(values: FormValues, p: ConnectionPreset | undefined): FormValues {
  if (!p) return { ...values, preset: CUSTOM, authorization_endpoint: '', token_endpoint: '', revocation_endpoint: '' };
  // A preset's endpoints are explicit: an issuer typed for another provider must not be sent along.
  return {
    ...values, preset: p.name, display_name: p.display_name, issuer: '', authorization_endpoint: p.authorization_endpoint,
    token_endpoint: p.token_endpoint, revocation_endpoint: p.revocation_endpoint, scopes: p.default_scopes,
    token_endpoint_auth_method: p.token_endpoint_auth_method ?? '',
  };
}

function fromConnection(c: Connection): FormValues {
  return {
    preset: c.preset || CUSTOM, id: c.id, display_name: c.display_name, issuer: c.issuer ?? '',
    authorization_endpoint: c.authorization_endpoint, token_endpoint: c.token_endpoint,
    revocation_endpoint: c.revocation_endpoint ?? '', client_id: c.client_id, client_secret: '', scopes: c.scopes,
    token_endpoint_auth_method: c.token_endpoint_auth_method,
  };
}

const TEXT_FIELDS: Field[] = ['display_name', 'issuer', 'authorization_endpoint', 'token_endpoint',
  'revocation_endpoint', 'client_id', 'scopes', 'token_endpoint_auth_method'];

/** A new connection: the preset fills in what is left out, so empty optional fields are not sent. */
function createBody(v: FormValues): Record<string, string> {
  const body: Record<string, string> = { preset: v.preset, client_id: v.client_id.trim(), scopes: v.scopes.trim() };
  if (v.id.trim()) body['id'] = v.id.trim();
  for (const f of TEXT_FIELDS) if (!(f in body) && v[f].trim()) body[f] = v[f].trim();
  if (v.client_secret) body['client_secret'] = v.client_secret;
  return body;
}

/** An edit sends only what changed (a new issuer is discovered again; an empty secret keeps the old one). */
function updateBody(v: FormValues, was: FormValues): Record<string, string> {
  const body: Record<string, string> = {};
  for (const f of TEXT_FIELDS) if (v[f].trim() !== was[f]) body[f] = v[f].trim();
  if (v.client_secret) body['client_secret'] = v.client_secret;
  return body;
}

// The API's validation messages start with the field they are about ("token_endpoint must be ...").
const FIELD_OF_CODE: Record<string, Field> = { connection_exists: 'id', discovery_failed: 'issuer' };
function invalidField(error: ApiError | null): Field | null {
  if (!error) return null;
  if (FIELD_OF_CODE[error.code]) return FIELD_OF_CODE[error.code] ?? null;
  if (/^unknown preset/.test(error.message)) return 'preset';
  const first = /^([a-z_]+)\b/.exec(error.message)?.[1] ?? '';
  return Object.hasOwn(EMPTY, first) ? (first as Field) : null;
}

const LABELS: Partial<Record<Field, string>> = {
  id: 'Id', display_name: 'Display name', issuer: 'Issuer', authorization_endpoint: 'Authorization URL',
  token_endpoint: 'Token URL', revocation_endpoint: 'Revocation URL', client_id: 'Client id',
  client_secret: 'Client secret', scopes: 'Scopes', token_endpoint_auth_method: 'Client authentication',
};

/** The API's message, with the field it starts with named as the form labels it. */
function shownError(error: ApiError | null, field: Field | null): ApiError | null {
  const label = field ? LABELS[field] : undefined;
  if (!error || !field || !label || !error.message.startsWith(`${field} `)) return error;
  return new ApiError(error.status, error.code, label + error.message.slice(field.length), error.details, error.retryAfter);
}

function TextField({ field, label, values, set, invalid, hint, testId, ...input }: {
  field: Field; label: string; values: FormValues; set: (f: Field, v: string) => void; invalid: Field | null;
  hint?: ComponentChildren; testId: string; placeholder?: string; disabled?: boolean; autoComplete?: string;
}) {
  const id = `conn-${field}`;
  return (
    <div class={`field ${invalid === field ? 'field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} type="text" spellcheck={false} data-testid={testId} value={values[field]}
        aria-invalid={invalid === field ? 'true' : undefined} aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => set(field, e.currentTarget.value)} {...input} />
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
    </div>
  );
}

function ConnectionForm({ tenantId, presets, editing, onSaved, onCancel }: {
  tenantId: string; presets: ConnectionPreset[]; editing: Connection | null;
  onSaved: (c: Connection, created: boolean) => void; onCancel: () => void;
}) {
  const [initial] = useState<FormValues>(() => (editing ? fromConnection(editing) : EMPTY));
  const [values, setValues] = useState<FormValues>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = useCallback((f: Field, v: string) => setValues((old) => ({ ...old, [f]: v })), []);
  const invalid = invalidField(error);
  const custom = values.preset === CUSTOM;
  const formRef = useRef<HTMLFormElement>(null);

  // Opened from a row further down the list: bring the form into view and start at its first field.
  useEffect(() => {
    formRef.current?.scrollIntoView({ block: 'nearest' });
    formRef.current?.querySelector<HTMLElement>('select:not(:disabled), input:not(:disabled)')?.focus({ preventScroll: true });
  }, []);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = editing
        ? await request<Connection>('PUT', `/api/tenants/${enc(tenantId)}/connections/${enc(editing.id)}`,
          { body: updateBody(values, initial) })
        : await post<Connection>(`/api/tenants/${enc(tenantId)}/connections`, createBody(values));
      onSaved(saved, !editing);
    } catch (err) {
      setError(networkError(err));  // every value stays as typed, the secret included
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card connection-form" ref={formRef} onSubmit={(e) => { void submit(e); }} noValidate
      data-testid="connection-form" data-mode={editing ? 'edit' : 'create'} aria-labelledby="connection-form-title">
      <h2 id="connection-form-title">{editing ? `Edit ${editing.display_name}` : 'Add a connection'}</h2>
      <div class={`field ${invalid === 'preset' ? 'field-invalid' : ''}`}>
        <label for="conn-preset">Provider</label>
        <select id="conn-preset" data-testid="connection-preset" value={values.preset} disabled={!!editing}
          onChange={(e) => {
            const name = e.currentTarget.value;
            setValues((old) => fromPreset(old, presets.find((p) => p.name === name)));
          }}>
          {presets.map((p) => <option key={p.name} value={p.name}>{p.display_name}</option>)}
          {!custom && !presets.some((p) => p.name === values.preset) && <option value={values.preset}>{values.preset}</option>}
          <option value={CUSTOM}>Custom (your own endpoints or issuer)</option>
        </select>
        {!editing && <p class="hint">A provider fills in its endpoints and usual scopes; you can change them.</p>}
      </div>
      <div class="form-grid">
        <TextField field="id" label="Id" testId="connection-id" values={values} set={set} invalid={invalid}
          disabled={!!editing} placeholder={custom ? 'e.g. crm' : values.preset}
          hint={editing ? 'The id cannot change.' : 'Lower-case letters, digits, - and _. Tools name the connection by it.'} />
        <TextField field="display_name" label="Display name" testId="connection-display-name" values={values} set={set}
          invalid={invalid} hint="What members see on their Connected accounts page." />
      </div>
      <fieldset class="form-group">
        <legend>Endpoints</legend>
        <TextField field="issuer" label="Issuer (optional)" testId="connection-issuer" values={values} set={set}
          invalid={invalid} placeholder="https://login.example.com"
          hint="Instead of the endpoints: Gatehouse reads them from the issuer's discovery document." />
        <TextField field="authorization_endpoint" label="Authorization URL" testId="connection-authorization-endpoint"
          values={values} set={set} invalid={invalid} placeholder="https://…/authorize" />
        <TextField field="token_endpoint" label="Token URL" testId="connection-token-endpoint" values={values} set={set}
          invalid={invalid} placeholder="https://…/token" />
        <TextField field="revocation_endpoint" label="Revocation URL (optional)" testId="connection-revocation-endpoint"
          values={values} set={set} invalid={invalid} placeholder="https://…/revoke" />
      </fieldset>
      <fieldset class="form-group">
        <legend>Client registered at the provider</legend>
        <TextField field="client_id" label="Client id" testId="connection-client-id" values={values} set={set}
          invalid={invalid} autoComplete="off" />
        <div class={`field ${invalid === 'client_secret' ? 'field-invalid' : ''}`}>
          <label for="conn-client_secret">Client secret</label>
          <input id="conn-client_secret" type="password" autoComplete="new-password" data-testid="connection-client-secret"
            value={values.client_secret} aria-invalid={invalid === 'client_secret' ? 'true' : undefined}
            aria-describedby="conn-client_secret-hint"
            placeholder={editing?.client_secret_set ? 'Leave empty to keep the current secret' : ''}
            onInput={(e) => set('client_secret', e.currentTarget.value)} />
          <p class="hint" id="conn-client_secret-hint">Stored encrypted and never shown again.</p>
        </div>
        <div class={`field ${invalid === 'token_endpoint_auth_method' ? 'field-invalid' : ''}`}>
          <label for="conn-auth-method">Client authentication</label>
          <select id="conn-auth-method" data-testid="connection-auth-method" value={values.token_endpoint_auth_method}
            onChange={(e) => set('token_endpoint_auth_method', e.currentTarget.value)}>
            {!editing && <option value="">{custom ? 'Default (HTTP Basic)' : 'The provider\'s usual method'}</option>}
            <option value="client_secret_basic">HTTP Basic (client_secret_basic)</option>
            <option value="client_secret_post">In the request body (client_secret_post)</option>
          </select>
        </div>
      </fieldset>
      <TextField field="scopes" label="Scopes" testId="connection-scopes" values={values} set={set} invalid={invalid}
        placeholder="openid email offline_access" hint="Separated by spaces." />
      <ErrorBox error={shownError(error, invalid)} testId="connection-form-error" />
      <div class="form-actions">
        <button type="button" class="btn btn-ghost" onClick={onCancel} data-testid="connection-cancel">Cancel</button>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="connection-submit">
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Add connection'}</button>
      </div>
    </form>
  );
}

function ConnectionRow({ tenantId, conn, presetName, onEdit, onDeleted }: {
  tenantId: string; conn: Connection; presetName: string; onEdit: () => void; onDeleted: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const remove = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await request('DELETE', `/api/tenants/${enc(tenantId)}/connections/${enc(conn.id)}`);
      onDeleted();
    } catch (e) {
      setError(networkError(e));
      setBusy(false);
    }
  };

  return (
    <li class="card account-row" data-testid="connection-row" data-connection-id={conn.id}>
      <div class="account-main">
        <div class="account-title">
          <strong data-testid="connection-name">{conn.display_name}</strong>
          <span class="badge badge-muted" data-testid="connection-preset-name" data-preset={conn.preset}>{presetName}</span>
        </div>
        <dl class="detail-fields connection-details">
          <div class="detail-field"><dt>Id</dt><dd data-testid="connection-row-id">{conn.id}</dd></div>
          <div class="detail-field"><dt>Client id</dt><dd data-testid="connection-row-client-id">{conn.client_id}</dd></div>
          <div class="detail-field"><dt>Client secret</dt>
            <dd data-testid="connection-secret-state" data-set={conn.client_secret_set ? 'yes' : 'no'}>
              {conn.client_secret_set ? 'Set (hidden)' : 'Not set'}</dd></div>
          <div class="detail-field"><dt>Scopes</dt>
            <dd data-testid="connection-row-scopes">{conn.scopes || <span class="muted">None</span>}</dd></div>
          <div class="detail-field"><dt>Redirect URI</dt><dd data-testid="connection-redirect-uri">{conn.redirect_uri}</dd></div>
          <div class="detail-field"><dt>Updated</dt><dd>{dateTime(conn.updated_at)}</dd></div>
        </dl>
        {confirming && (
          <div class="alert alert-error" role="alert" data-testid="connection-delete-prompt">
            <p class="alert-title">Delete {conn.display_name}?</p>
            <p>Members' accounts connected through it are disconnected, and tools that use it stop working.</p>
            <div class="form-actions">
              <button type="button" class="btn btn-secondary btn-small" disabled={busy} data-testid="connection-delete-cancel"
                onClick={() => setConfirming(false)}>Keep it</button>
              <button type="button" class="btn btn-danger btn-small" disabled={busy} data-testid="connection-delete-confirm"
                onClick={() => { void remove(); }}>{busy ? 'Deleting…' : 'Delete'}</button>
            </div>
          </div>
        )}
        <ErrorBox error={error} testId="connection-row-error" />
      </div>
      <div class="account-actions">
        <button type="button" class="btn btn-secondary btn-small" data-testid="connection-edit" onClick={onEdit}>Edit</button>
        <button type="button" class="btn btn-ghost btn-small" data-testid="connection-delete" disabled={confirming}
          onClick={() => setConfirming(true)}>Delete</button>
      </div>
    </li>
  );
}

function AdminsOnly() {
  return (
    <Notice testId="connections-admins-only">
      Only your organisation's admins manage connections. To connect your own account at a service, use
      the Connected accounts page; to have a service added, ask an admin.
    </Notice>
  );
}

export function ConnectionsView({ me }: { me: Me }) {
  const admin = isTenantAdmin(me);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [presets, setPresets] = useState<ConnectionPreset[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  // null: no form; 'new': adding; a connection: editing it.
  const [form, setForm] = useState<'new' | Connection | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async (): Promise<void> => {
    try {
      const res = await get<{ connections: Connection[] }>(`/api/tenants/${enc(me.tenant_id)}/connections`);
      setConnections(res.connections);
      setError(null);
    } catch (e) {
      setError(networkError(e));
    }
  }, [me.tenant_id]);

  useEffect(() => {
    if (!admin) return;
    void load();
    get<{ presets: ConnectionPreset[] }>('/api/connection-presets')
      .then((res) => setPresets(res.presets))
      .catch(() => { /* without presets, custom endpoints still work */ });
  }, [admin, load]);

  const onSaved = (c: Connection, created: boolean): void => {
    setForm(null);
    setNotice(created ? `Added ${c.display_name}.` : `Saved ${c.display_name}.`);
    void load();
  };

  const forbidden = !admin || error?.status === 403;
  return (
    <main class="page" data-testid="connections-page" data-admin={admin ? 'yes' : 'no'}>
      <div class="page-head">
        <h1>Connections</h1>
        {!forbidden && form === null && (
          <button type="button" class="btn btn-primary btn-small page-head-action" data-testid="connection-add"
            onClick={() => { setNotice(null); setForm('new'); }}>Add connection</button>
        )}
      </div>
      <p class="muted page-intro">The services your organisation's members can connect their accounts at, so the
        assistant's tools can act there for them.{!forbidden && ' Register Gatehouse as an OAuth client at the provider first, with the redirect URI shown for each connection.'}</p>
      {forbidden && <AdminsOnly />}
      {!forbidden && (
        <>
          {notice && <Notice testId="connections-notice">{notice}</Notice>}
          <ErrorBox error={error} testId="connections-error" />
          {form !== null && (
            <ConnectionForm key={form === 'new' ? 'new' : form.id} tenantId={me.tenant_id} presets={presets}
              editing={form === 'new' ? null : form} onSaved={onSaved} onCancel={() => setForm(null)} />
          )}
          {connections === null && !error && <p class="muted"><Spinner /> Loading…</p>}
          {connections !== null && connections.length === 0 && (
            <Notice testId="connections-empty">No connections yet. Add one so members can connect their accounts.</Notice>
          )}
          {connections !== null && connections.length > 0 && (
            <ul class="account-list" data-testid="connections-list">
              {connections.map((c) => (
                <ConnectionRow key={c.id} tenantId={me.tenant_id} conn={c}
                  presetName={presets.find((p) => p.name === c.preset)?.display_name ?? (c.preset || CUSTOM)}
                  onEdit={() => { setNotice(null); setForm(c); }}
                  onDeleted={() => {
                    setNotice(`Deleted ${c.display_name}.`);
                    if (form !== null && form !== 'new' && form.id === c.id) setForm(null);
                    void load();
                  }} />
              ))}
            </ul>
          )}
        </>
      )}
    </main>
  );
}
