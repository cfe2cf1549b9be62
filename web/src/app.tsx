// Application shell: tiny path router + session state.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { AccountsView } from './accounts';
import { ApiError, get, logout, networkError, setSessionExpiredHandler, tokens } from './api';
import { ApprovalsView } from './approvals';
import { LoginView, RegisterView, VerifyView } from './auth';
import { ChatView } from './chat';
import { ConnectionsView } from './connections';
import { ErrorBox, Spinner } from './components';
import { userFeed } from './feed';
import { isRecord } from './format';
import { Header } from './header';
import type { Approval, Me } from './types';
import { UsagePanel } from './usage';

const PENDING_EMAIL = 'gatehouse.pendingEmail';

function currentPath(): string {
  const p = location.pathname.replace(/\/+$/, '');
  return p || '/';
}

function queryParam(name: string): string {
  return new URLSearchParams(location.search).get(name) ?? '';
}

function storedEmail(): string {
  try { return sessionStorage.getItem(PENDING_EMAIL) ?? ''; } catch { return ''; }
}

function rememberEmail(email: string): void {
  try { sessionStorage.setItem(PENDING_EMAIL, email); } catch { /* ignore */ }
}

const TITLES: Record<string, string> = {
  '/login': 'Log in', '/register': 'Create account', '/verify': 'Verify email', '/': 'Chat',
  '/approvals': 'Approvals', '/connected-accounts': 'Connected accounts', '/connections': 'Connections',
};

/** Pages of their own (the rest of the signed-in paths show the chat workspace). */
const PAGES = ['/approvals', '/connected-accounts', '/connections'];

/** How many requests wait for the signed-in user's decision, kept current by the live feed. */
function usePendingApprovals(active: boolean): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!active) { setCount(0); return undefined; }
    const recount = async (): Promise<void> => {
      try {
        const res = await get<{ approvals: Approval[] }>('/api/me/approvals');
        setCount(res.approvals.filter((a) => a.status === 'pending').length);
      } catch { /* the badge is a hint: keep the last count */ }
    };
    return userFeed.subscribe((m) => {
      if (m.event === 'ready' && isRecord(m.data) && typeof m.data['pending_approvals'] === 'number') {
        setCount(m.data['pending_approvals']);
      } else if (m.event === 'approval_requested' || m.event === 'approval_updated') {
        void recount();
      }
    });
  }, [active]);
  return count;
}

export function App() {
  const [path, setPath] = useState(currentPath);
  const [me, setMe] = useState<Me | null>(null);
  const [meLoading, setMeLoading] = useState(() => !!tokens.get());
  const [meError, setMeError] = useState<ApiError | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [pendingEmail, setPendingEmail] = useState(() => queryParam('email') || storedEmail());
  const [usageKey, setUsageKey] = useState(0);
  const pendingApprovals = usePendingApprovals(!!me);

  const navigate = useCallback((to: string, replace = false) => {
    if (replace) history.replaceState(null, '', to);
    else history.pushState(null, '', to);
    setPath(currentPath());
    window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    const onPop = (): void => setPath(currentPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    document.title = `${TITLES[path] ?? 'Gatehouse'} · Gatehouse`;
  }, [path]);

  const loadMe = useCallback(async (): Promise<void> => {
    if (!tokens.get()) { setMe(null); setMeLoading(false); return; }
    setMeLoading(true);
    setMeError(null);
    try {
      setMe(await get<Me>('/api/me'));
    } catch (e) {
      const err = networkError(e);
      if (err.status === 401) {
        tokens.set(null);
        setMe(null);
      } else {
        setMeError(err);
      }
    } finally {
      setMeLoading(false);
    }
  }, []);

  useEffect(() => { void loadMe(); }, [loadMe]);

  useEffect(() => {
    setSessionExpiredHandler(() => {
      setMe(null);
      setFlash('Your session has expired. Please log in again.');
      navigate('/login');
    });
  }, [navigate]);

  // Route guards.
  const authed = !!me;
  useEffect(() => {
    if (meLoading) return;
    const publicPaths = ['/login', '/register', '/verify'];
    if (!authed && !tokens.get() && !publicPaths.includes(path)) navigate('/login', true);
    else if (authed && publicPaths.includes(path)) navigate('/', true);
  }, [authed, meLoading, path, navigate]);

  const onLogout = async (): Promise<void> => {
    await logout();
    setMe(null);
    setFlash('You have been logged out.');
    navigate('/login');
  };

  if (path === '/register') {
    return <RegisterView navigate={navigate} onRegistered={(email) => {
      setPendingEmail(email);
      rememberEmail(email);
      navigate(`/verify?email=${encodeURIComponent(email)}`);
    }} />;
  }
  if (path === '/verify') {
    return <VerifyView navigate={navigate} email={queryParam('email') || pendingEmail} onVerified={(email) => {
      setPendingEmail(email);
      rememberEmail(email);
      setFlash('Your email is verified. You can log in now.');
      navigate('/login');
    }} />;
  }
  if (path === '/login' || (!me && !meLoading && !meError)) {
    return <LoginView navigate={navigate} email={pendingEmail} flash={flash} onLoggedIn={() => {
      setFlash(null);
      void loadMe().then(() => navigate('/', true));
    }} />;
  }
  if (meLoading || !me) {
    return (
      <main class="auth-page">
        {meError
          ? <ErrorBox error={meError}><button type="button" class="btn btn-secondary" onClick={() => { void loadMe(); }}>Retry</button></ErrorBox>
          : <p class="muted"><Spinner /> Loading…</p>}
      </main>
    );
  }
  return (
    <div class="app-shell">
      <Header me={me} onLogout={() => { void onLogout(); }} path={path} navigate={navigate}
        pendingApprovals={pendingApprovals} />
      {path === '/approvals' && <div class="page-scroll"><ApprovalsView /></div>}
      {path === '/connected-accounts' && <div class="page-scroll"><AccountsView navigate={navigate} /></div>}
      {/* Open to everyone signed in: a member who is not an admin is told so there, not sent elsewhere. */}
      {path === '/connections' && <div class="page-scroll"><ConnectionsView key={me.user_id} me={me} /></div>}
      {!PAGES.includes(path) && (
        <div class="workspace">
          <ChatView key={me.user_id} me={me} onChatFinished={() => setUsageKey((k) => k + 1)} />
          <UsagePanel tenantId={me.tenant_id} refreshKey={usageKey} />
        </div>
      )}
    </div>
  );
}
