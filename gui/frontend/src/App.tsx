import { ReactNode } from 'react';
import { Link, Navigate, Outlet, Route, Routes, useLocation } from 'react-router-dom';
import { useSession, useUser } from './auth/session';
import { Layout, PageTitle } from './components/Layout';
import { LiveProvider } from './live/live';
import { AuditPage } from './pages/AuditPage';
import { ClusterPage } from './pages/ClusterPage';
import { CostsPage } from './pages/CostsPage';
import { LoginPage } from './pages/LoginPage';
import { LogsPage } from './pages/LogsPage';
import { MessagesPage } from './pages/MessagesPage';
import { OrchestratorDetailPage } from './pages/OrchestratorDetailPage';
import { OrchestratorsPage } from './pages/OrchestratorsPage';
import { OrganizationDetailPage } from './pages/OrganizationDetailPage';
import { OrganizationsPage } from './pages/OrganizationsPage';
import { OverviewPage } from './pages/OverviewPage';
import { PluginsPage } from './pages/PluginsPage';
import { UsersPage } from './pages/UsersPage';

// One layout route for all signed-in pages, so the live stream and its
// recent events survive moving between pages.
function RequireLogin({ WebSocketImpl }: { WebSocketImpl?: typeof WebSocket }) {
  const { user } = useSession();
  const location = useLocation();
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return (
    <LiveProvider WebSocketImpl={WebSocketImpl}>
      <Layout>
        <Outlet />
      </Layout>
    </LiveProvider>
  );
}

function SuperadminOnly({ children }: { children: ReactNode }) {
  const user = useUser();
  if (user.role !== 'superadmin')
    return (
      <>
        <PageTitle>Not allowed</PageTitle>
        <p>This page is for superadmins.</p>
      </>
    );
  return <>{children}</>;
}

/** Signed in on /login: go where the login guard came from, else the overview. */
function AfterLogin() {
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  return <Navigate to={from && from !== '/login' ? from : '/'} replace />;
}

function NotFound() {
  return (
    <>
      <PageTitle>Page not found</PageTitle>
      <p>
        Nothing here. <Link to="/">Go to the overview</Link>.
      </p>
    </>
  );
}

export function App({ WebSocketImpl }: { WebSocketImpl?: typeof WebSocket }) {
  const { user } = useSession();
  return (
    <Routes>
      <Route path="/login" element={user ? <AfterLogin /> : <LoginPage />} />
      <Route element={<RequireLogin WebSocketImpl={WebSocketImpl} />}>
        <Route path="/" element={<OverviewPage />} />
        <Route path="/orchestrators" element={<OrchestratorsPage />} />
        <Route path="/orchestrators/:id" element={<OrchestratorDetailPage />} />
        <Route path="/messages" element={<MessagesPage />} />
        <Route path="/organizations" element={<OrganizationsPage />} />
        <Route path="/organizations/:id" element={<OrganizationDetailPage />} />
        <Route path="/costs" element={<CostsPage />} />
        <Route path="/audit" element={<AuditPage />} />
        <Route path="/plugins" element={<PluginsPage />} />
        <Route path="/users" element={<SuperadminOnly><UsersPage /></SuperadminOnly>} />
        <Route path="/logs" element={<SuperadminOnly><LogsPage /></SuperadminOnly>} />
        <Route path="/cluster" element={<SuperadminOnly><ClusterPage /></SuperadminOnly>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
