// The frame around every signed-in page: header (live state, user, logout),
// navigation (a menu button on narrow screens) and the main region.
import { ReactNode, useEffect, useRef, useState } from 'react';
import { NavLink, useLocation } from 'react-router-dom';
import { useApi, useSession, useUser } from '../auth/session';
import { LiveMode, useLive } from '../live/live';
import { useResource } from '../live/useResource';
import { ThemeSwitch } from './ThemeSwitch';

const MODE_TEXT: Record<LiveMode, string> = {
  starting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting — polling',
  polling: 'Polling',
};

function LiveIndicator() {
  const { mode, pollIntervalMs } = useLive();
  const title =
    mode === 'live'
      ? 'Changes arrive as they happen'
      : `Refreshing every ${Math.round(pollIntervalMs / 1000)} s`;
  return (
    <span className={`live live-${mode}`} title={title} data-live-mode={mode}>
      <span className="live-dot" aria-hidden="true" />
      <span className="live-text">{MODE_TEXT[mode]}</span>
    </span>
  );
}

interface NavItem {
  to: string;
  label: string;
  superadminOnly?: boolean;
}

const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/orchestrators', label: 'Orchestrators' },
  { to: '/messages', label: 'Messages' },
  { to: '/organizations', label: 'Organizations' },
  { to: '/costs', label: 'Costs' },
  { to: '/audit', label: 'Audit log' },
  { to: '/plugins', label: 'Plugins' },
  { to: '/users', label: 'Users', superadminOnly: true },
  { to: '/logs', label: 'Logs', superadminOnly: true },
  { to: '/cluster', label: 'Cluster', superadminOnly: true },
];

export function Layout({ children }: { children: ReactNode }) {
  const user = useUser();
  const { signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => setMenuOpen(false), [location.pathname]);
  // Escape closes the open menu and gives focus back to its button.
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);
  const api = useApi();
  const pending = useResource(() => api.allMessages({ status: 'pending', page_size: 1 }), [api], {
    refreshOn: (e) => e.kind === 'message_changed',
  });
  const pendingCount = pending.data?.total ?? 0;
  const items = NAV.filter((n) => !n.superadminOnly || user.role === 'superadmin').map((n) =>
    n.to === '/organizations' && user.role === 'org_admin' && user.organization_id
      ? { ...n, to: `/organizations/${encodeURIComponent(user.organization_id)}`, label: 'My organization' }
      : n,
  );

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          ref={menuButton}
          type="button"
          className="btn menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <span className="brand">Moolai Controller</span>
        <LiveIndicator />
      </header>
      <div className="body">
        <nav id="main-nav" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
          <ul>
            {items.map((n) => (
              <li key={n.to}>
                <NavLink to={n.to} end={n.to === '/'}>
                  {n.label}
                  {n.to === '/messages' && pendingCount > 0 && (
                    <span className="nav-count" data-testid="nav-pending">
                      {pendingCount}
                      <span className="sr-only"> pending</span>
                    </span>
                  )}
                </NavLink>
              </li>
            ))}
          </ul>
          {/* After the navigation in tab order: who is signed in, the theme, Log out. */}
          <div className="account">
            <span className="whoami">
              <span className="whoami-name">{user.username}</span>{' '}
              <span className="muted">
                ({user.role === 'superadmin' ? 'superadmin' : `org_admin of ${user.organization_id ?? '?'}`})
              </span>
            </span>
            <ThemeSwitch />
            <button type="button" className="btn" onClick={() => void signOut()}>
              Log out
            </button>
          </div>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

/** Sets the document title and renders the page heading. */
export function PageTitle({ children, actions }: { children: string; actions?: ReactNode }) {
  useEffect(() => {
    document.title = `${children} · Moolai Controller`;
  }, [children]);
  return (
    <div className="page-title">
      <h1>{children}</h1>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}
