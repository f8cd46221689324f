// The frame around every signed-in page: header (live state, user, logout),
// navigation (a menu button on narrow screens) and the main region.
import { ReactNode, useEffect, useState } from 'react';
import { NavLink, useLocation } from 'react-router-dom';
import { useSession, useUser } from '../auth/session';
import { LiveMode, useLive } from '../live/live';

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
  { to: '/organizations', label: 'Organizations' },
  { to: '/costs', label: 'Costs' },
  { to: '/audit', label: 'Audit log' },
  { to: '/plugins', label: 'Plugins' },
  { to: '/users', label: 'Users', superadminOnly: true },
  { to: '/logs', label: 'Logs', superadminOnly: true },
];

export function Layout({ children }: { children: ReactNode }) {
  const user = useUser();
  const { signOut } = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
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
        <span className="whoami">
          <span className="whoami-name">{user.username}</span>{' '}
          <span className="muted">
            ({user.role === 'superadmin' ? 'superadmin' : `org_admin of ${user.organization_id ?? '?'}`})
          </span>
        </span>
        <button type="button" className="btn" onClick={() => void signOut()}>
          Log out
        </button>
      </header>
      <div className="body">
        <nav id="main-nav" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
          <ul>
            {items.map((n) => (
              <li key={n.to}>
                <NavLink to={n.to} end={n.to === '/'}>
                  {n.label}
                </NavLink>
              </li>
            ))}
          </ul>
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
