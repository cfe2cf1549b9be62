// Create account, verify email, log in.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, post, tokens } from './api';
import { AuthCard, ErrorBox, Link, Notice } from './components';
import type { RegisterResult, Tier, TokenSet } from './types';

interface NavProps { navigate: (to: string) => void }

const TIERS: { value: Tier; label: string; blurb: string }[] = [
  { value: 'basic', label: 'Basic', blurb: 'Free plan for trying Gatehouse. Chat only, no tools.' },
  { value: 'advanced', label: 'Advanced', blurb: 'Higher message limits, more concurrent sessions, weather tool.' },
  { value: 'premium', label: 'Premium', blurb: 'Highest limits, all tools, longest sessions, cost reports.' },
];

// Preact's input typings discriminate on a literal `type`, so the show/hide toggle picks one branch.
function passwordType(show: boolean): { type: 'text' } | { type: 'password' } {
  return show ? { type: 'text' } : { type: 'password' };
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'unknown', e instanceof Error ? e.message : String(e));
}

// ---------------------------------------------------------------------------------------------

export function RegisterView({ navigate, onRegistered }: NavProps & { onRegistered: (email: string) => void }) {
  const initialCode = new URLSearchParams(location.search).get('invite') ?? '';
  const [mode, setMode] = useState<'new' | 'invite'>(initialCode ? 'invite' : 'new');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [showPassword, setShowPassword] = useState(false);
  const [tenantName, setTenantName] = useState('');
  const [tier, setTier] = useState<Tier>('basic');
  const [inviteCode, setInviteCode] = useState(initialCode);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = mode === 'new'
      ? { email: email.trim(), password, tenant_name: tenantName.trim(), subscription_tier: tier }
      : { email: email.trim(), password, invite_code: inviteCode.trim() };
    try {
      const res = await post<RegisterResult>('/api/auth/register', body, { auth: false });
      onRegistered(res.email || email.trim());
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Create your account"
      subtitle="Start a new organisation, or join one with an invitation code from its admin."
      footer={<>Already have an account? <Link href="/login" navigate={navigate} testId="goto-login">Log in</Link></>}>
      <div class="segmented" role="group" aria-label="Account type">
        <button type="button" aria-pressed={mode === 'new'} data-testid="register-mode-new"
          class={mode === 'new' ? 'active' : ''} onClick={() => { setMode('new'); setError(null); }}>
          New organisation
        </button>
        <button type="button" aria-pressed={mode === 'invite'} data-testid="register-mode-invite"
          class={mode === 'invite' ? 'active' : ''} onClick={() => { setMode('invite'); setError(null); }}>
          Join with invitation code
        </button>
      </div>
      <form onSubmit={submit} data-testid="register-form" noValidate={false}>
        <div class="field">
          <label for="reg-email">Email</label>
          <input id="reg-email" type="email" autoComplete="email" required data-testid="register-email"
            value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="reg-password">Password</label>
          <div class="input-with-button">
            <input id="reg-password" {...passwordType(showPassword)} autoComplete="new-password" required
              data-testid="register-password" aria-describedby="reg-password-hint"
              value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            <button type="button" class="btn btn-ghost btn-small" aria-pressed={showPassword}
              onClick={() => setShowPassword(!showPassword)}>{showPassword ? 'Hide' : 'Show'}</button>
          </div>
          <p id="reg-password-hint" class="hint">Use a long password that mixes letters, digits and symbols.
            The server tells you if it is too weak.</p>
        </div>
        {mode === 'new' ? (
          <>
            <div class="field">
              <label for="reg-tenant">Organisation name</label>
              <input id="reg-tenant" type="text" autoComplete="organization" required data-testid="register-tenant-name"
                value={tenantName} onInput={(e) => setTenantName(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label for="reg-tier">Subscription tier</label>
              <select id="reg-tier" data-testid="register-tier" value={tier} aria-describedby="reg-tier-hint"
                onChange={(e) => setTier(e.currentTarget.value as Tier)}>
                {TIERS.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
              </select>
              <p id="reg-tier-hint" class="hint">{TIERS.find((t) => t.value === tier)?.blurb}
                {' '}You become the organisation's admin.</p>
            </div>
          </>
        ) : (
          <div class="field">
            <label for="reg-invite">Invitation code</label>
            <input id="reg-invite" type="text" autoComplete="off" required spellcheck={false}
              data-testid="register-invite-code" value={inviteCode}
              onInput={(e) => setInviteCode(e.currentTarget.value)} />
            <p class="hint">Ask an admin of your organisation to create one for you.</p>
          </div>
        )}
        <ErrorBox error={error} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="register-submit">
          {busy ? 'Creating account…' : 'Create account'}
        </button>
      </form>
    </AuthCard>
  );
}

// ---------------------------------------------------------------------------------------------

const RESEND_COOLDOWN = 30;

export function VerifyView({ navigate, email: initialEmail, onVerified }: NavProps & {
  email: string; onVerified: (email: string) => void;
}) {
  const [email, setEmail] = useState(initialEmail);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [cooldown, setCooldown] = useState(0);
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => { codeRef.current?.focus(); }, []);
  useEffect(() => {
    if (cooldown <= 0) return undefined;
    const t = setTimeout(() => setCooldown(cooldown - 1), 1000);
    return () => clearTimeout(t);
  }, [cooldown]);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await post('/api/auth/verify', { email: email.trim(), code: code.trim() }, { auth: false });
      onVerified(email.trim());
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const resend = async (): Promise<void> => {
    setError(null);
    setNotice(null);
    try {
      await post('/api/auth/resend', { email: email.trim() }, { auth: false });
      setNotice(`A new code was sent to ${email.trim()}. Earlier codes may no longer work.`);
      setCooldown(RESEND_COOLDOWN);
    } catch (err) {
      setError(asApiError(err));
    }
  };

  return (
    <AuthCard title="Verify your email" subtitle="Enter the 6-digit code we sent to your email address."
      footer={<>Verified already? <Link href="/login" navigate={navigate} testId="goto-login">Log in</Link></>}>
      <form onSubmit={submit} data-testid="verify-form">
        <div class="field">
          <label for="ver-email">Email</label>
          <input id="ver-email" type="email" autoComplete="email" required data-testid="verify-email"
            value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="ver-code">Verification code</label>
          <input id="ver-code" ref={codeRef} class="code-input" type="text" inputMode="numeric"
            autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required placeholder="000000"
            aria-describedby="ver-code-hint" data-testid="verify-code" value={code}
            onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, '').slice(0, 6))} />
          <p id="ver-code-hint" class="hint">
            No mail server configured? A self-hosted Gatehouse with the default settings writes its mail to
            the <code>outbox/</code> folder of its data directory: open the newest <code>.eml</code> file
            addressed to you.
          </p>
        </div>
        {notice && <Notice testId="verify-notice">{notice}</Notice>}
        <ErrorBox error={error} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || code.length !== 6}
          data-testid="verify-submit">{busy ? 'Verifying…' : 'Verify email'}</button>
        <button type="button" class="btn btn-ghost btn-block" disabled={cooldown > 0 || !email}
          data-testid="verify-resend" onClick={() => { void resend(); }}>
          {cooldown > 0 ? `Resend code (${cooldown} s)` : 'Resend code'}
        </button>
      </form>
    </AuthCard>
  );
}

// ---------------------------------------------------------------------------------------------

export function LoginView({ navigate, email: initialEmail, flash, onLoggedIn }: NavProps & {
  email: string; flash: string | null; onLoggedIn: () => void;
}) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const t = await post<TokenSet>('/api/auth/login', { email: email.trim(), password }, { auth: false });
      tokens.set(t);
      onLoggedIn();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Log in" subtitle="Welcome back to Gatehouse."
      footer={<>New here? <Link href="/register" navigate={navigate} testId="goto-register">Create an account</Link></>}>
      {flash && <Notice testId="login-flash">{flash}</Notice>}
      <form onSubmit={submit} data-testid="login-form">
        <div class="field">
          <label for="login-email">Email</label>
          <input id="login-email" type="email" autoComplete="username" required data-testid="login-email"
            value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input id="login-password" type="password" autoComplete="current-password" required
            data-testid="login-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        <ErrorBox error={error}>
          {error?.code === 'email_not_verified' && (
            <p><Link href={`/verify?email=${enc(email.trim())}`} navigate={navigate} testId="goto-verify">
              Enter your verification code</Link></p>
          )}
          {error?.code === 'account_locked' && error.retryAfter === null && <p>Please try again later.</p>}
        </ErrorBox>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </AuthCard>
  );
}
