import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, orgAdmin, page, renderApp, signedInAs, superadmin, uiConfig } from './test/fakes';

const overview = {
  success: true,
  data: { total_organizations: 2, active_orchestrators: 1, inactive_orchestrators: 0, independent_orchestrators: 0, total_orchestrators: 1, total_users: 2 },
};

describe('session', () => {
  beforeEach(() => FakeSocket.reset());

  it('goes back to login when the controller says 401', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/overview', () => ({ status: 401, body: { success: false, error: { code: 'unauthorized', message: 'expired' } } }))
      .on('GET /api/v1/controller/organizations', () => page([]))
      .on('GET /api/v1/internal/audit', () => page([]));
    renderApp(api, '/');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    expect(localStorage.getItem('moolai.session')).toBeNull();
  });

  it('says the session ended in the next document too, when the 401 reached the page being left', async () => {
    // A reload or a typed URL while a request is in flight: the 401 ends the
    // session in the old document, and the new one finds no stored session.
    signedInAs(superadmin);
    const revoked = () => ({ status: 401, body: { success: false, error: { code: 'unauthorized', message: 'session revoked' } } });
    const leaving = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/overview', revoked)
      .on('GET /api/v1/controller/organizations', revoked)
      .on('GET /api/v1/internal/events', revoked);
    const old = renderApp(leaving, '/');
    await waitFor(() => expect(localStorage.getItem('moolai.session')).toBeNull());
    old.unmount();

    const next = new FakeController().on('GET /api/v1/internal/plugins', revoked);
    renderApp(next, '/plugins');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(next.calls).toHaveLength(0); // no session, so nothing was asked
  });

  it('a stored session whose time ran out while no page was open says it ended', async () => {
    signedInAs({ ...superadmin, expires_at: new Date(Date.now() - 1000).toISOString() });
    renderApp(new FakeController(), '/plugins');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
  });

  it('signing in again clears the note; a logout leaves none for the next document', async () => {
    localStorage.setItem('moolai.session-ended', 'expired');
    const api = new FakeController()
      .on('POST /api/v1/internal/auth/login', () => ({ success: true, user: superadmin }))
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('POST /api/v1/internal/auth/logout', () => ({ success: true }))
      .on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
    const first = renderApp(api, '/plugins');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Username'), 'admin');
    await userEvent.type(screen.getByLabelText('Password'), 'secret-pass-1');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    await screen.findByRole('button', { name: 'Sign in' });
    expect(screen.queryByText('Your session has ended. Please sign in again.')).toBeNull();
    first.unmount();
    renderApp(api, '/plugins');
    await screen.findByRole('button', { name: 'Sign in' });
    expect(screen.queryByText('Your session has ended. Please sign in again.')).toBeNull();
  });

  it('a 401 in a stale tab leaves the session another tab has signed in since', async () => {
    signedInAs(superadmin);
    const newer = { ...superadmin, token: 'tok-newer' };
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/overview', () => {
        signedInAs(newer); // meanwhile, in another tab
        return { status: 401, body: { success: false, error: { code: 'unauthorized', message: 'expired' } } };
      })
      .on('GET /api/v1/controller/organizations', () => page([]))
      .on('GET /api/v1/internal/events', () => page([]));
    renderApp(api, '/');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem('moolai.session') ?? '{}').token).toBe('tok-newer');
    expect(localStorage.getItem('moolai.session-ended')).toBeNull();
  });

  it('a 401 after a logout in another tab leaves that tab’s word: logout', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/overview', () => {
        // meanwhile, the other tab logs out
        localStorage.removeItem('moolai.session');
        localStorage.setItem('moolai.session-ended', 'logout');
        return { status: 401, body: { success: false, error: { code: 'unauthorized', message: 'revoked' } } };
      })
      .on('GET /api/v1/controller/organizations', () => page([]))
      .on('GET /api/v1/internal/events', () => page([]));
    renderApp(api, '/');
    expect(await screen.findByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    expect(localStorage.getItem('moolai.session-ended')).toBe('logout');
  });

  it('goes back to login when the token’s time is up', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      signedInAs({ ...superadmin, expires_at: new Date(Date.now() + 5000).toISOString() });
      const api = new FakeController()
        .on('GET /api/v1/internal/ui-config', () => uiConfig)
        .on('GET /api/v1/controller/plugins', () => ({}))
        .on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
      renderApp(api, '/plugins');
      expect(await screen.findByText('No plugins loaded.')).toBeInTheDocument();
      await act(async () => {
        vi.advanceTimersByTime(6000);
      });
      expect(screen.getByText('Your session has ended. Please sign in again.')).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs out: tells the controller and forgets the token', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('POST /api/v1/internal/auth/logout', () => ({ success: true }))
      .on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
    renderApp(api, '/plugins');
    await userEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(api.callsTo('POST /api/v1/internal/auth/logout')[0]!.headers.Authorization).toBe('Bearer tok-admin');
    expect(localStorage.getItem('moolai.session')).toBeNull();
  });
});

describe('live fallback', () => {
  beforeEach(() => FakeSocket.reset());

  it('polls every poll_interval_ms while the stream is down, and stops polling once live', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      signedInAs(superadmin);
      const api = new FakeController()
        .on('GET /api/v1/internal/ui-config', () => ({ ...uiConfig, poll_interval_ms: 2000 }))
        .on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
      renderApp(api, '/plugins');
      await screen.findByText('No plugins loaded.');
      const polls = () => api.callsTo('GET /api/v1/internal/plugins').length;
      const first = polls();
      await act(async () => {
        vi.advanceTimersByTime(4100);
      });
      expect(polls()).toBeGreaterThanOrEqual(first + 2);
      const ws = FakeSocket.latest();
      expect(ws.url).toBe('ws://localhost:8766/api/v1/events');
      act(() => {
        ws.open();
        ws.receive({ type: 'subscribed' });
      });
      const live = polls();
      await act(async () => {
        vi.advanceTimersByTime(10000);
      });
      // After subscribing, one refetch (the stream may have missed something), then no polling.
      expect(polls()).toBeLessThanOrEqual(live + 1);
      expect(screen.getByText('Live')).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls alone when the controller has no ui-config (no event stream)', async () => {
    signedInAs(superadmin);
    const api = new FakeController().on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
    renderApp(api, '/plugins');
    expect(await screen.findByText('Polling')).toBeInTheDocument();
    expect(FakeSocket.instances).toHaveLength(0);
  });
});

describe('tenancy in the UI', () => {
  beforeEach(() => FakeSocket.reset());

  it('an org_admin is not offered the users page', async () => {
    signedInAs(orgAdmin);
    const api = new FakeController().on('GET /api/v1/internal/ui-config', () => uiConfig);
    renderApp(api, '/users');
    expect(await screen.findByRole('heading', { name: 'Not allowed' })).toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/internal/users')).toHaveLength(0);
  });

  it('an org_admin opening Organizations lands on their own', async () => {
    signedInAs(orgAdmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/organizations/acme', () => ({ success: true, data: { organization_id: 'acme', name: 'Acme Corp' } }))
      .on('GET /api/v1/controller/orchestrators', () => page([]));
    renderApp(api, '/organizations');
    expect(await screen.findByRole('heading', { name: 'Acme Corp' })).toBeInTheDocument();
    expect(screen.getByText('This organization has no orchestrators yet.')).toBeInTheDocument();
  });

  it('shows the controller’s refusal for another tenant’s organization', async () => {
    signedInAs(orgAdmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/organizations/globex', () => ({ status: 404, body: { success: false, error: { code: 'not_found', message: 'no such organization' } } }))
      .on('GET /api/v1/controller/orchestrators', () => ({ status: 403, body: { success: false, error: { code: 'forbidden', message: 'an org_admin sees their own organization only' } } }));
    renderApp(api, '/organizations/globex');
    expect(await screen.findByText('Not found: no such organization')).toBeInTheDocument();
  });
});

describe('overview', () => {
  beforeEach(() => FakeSocket.reset());

  it('counts by status and by organization, and lists stored and pushed changes', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      // The per-organization counts come with the totals, from the controller's memory.
      .on('GET /api/v1/controller/overview', () => ({
        success: true,
        data: {
          ...overview.data,
          by_organization: [{ organization_id: 'acme', name: 'Acme', active: 7, inactive: 3, independent: 1, total: 11 }],
        },
      }))
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 4 }))
      .on('GET /api/v1/controller/status-history', () => ({
        success: true,
        data: {
          interval_sec: 60,
          organization_id: null,
          items: [
            { time: new Date(Date.now() - 120_000).toISOString(), active: 5, inactive: 5, independent: 1 },
            { time: new Date(Date.now() - 60_000).toISOString(), active: 6, inactive: 4, independent: 1 },
            { time: new Date().toISOString(), active: 7, inactive: 3, independent: 1 },
          ],
        },
      }))
      .on('GET /api/v1/internal/events', () =>
        page([
          { kind: 'independence_changed', orchestrator_id: 'orch-2', old_value: 'false', new_value: 'true', actor: 'bob', time: new Date(Date.now() - 120_000).toISOString() },
          { kind: 'message_changed', orchestrator_id: 'orch-2', subject_id: 'm1', old_value: '', new_value: 'pending', time: new Date(Date.now() - 60_000).toISOString() },
        ]),
      );
    renderApp(api, '/');
    const row = (await screen.findByRole('link', { name: 'Acme' })).closest('tr')!;
    expect(within(row as HTMLElement).getAllByRole('cell').map((c) => c.textContent)).toEqual(['Acme', '7', '3', '1']);
    expect(api.callsTo('GET /api/v1/controller/orchestrators')).toHaveLength(0); // no per-status listing calls
    // The pending count on the overview and in the navigation.
    expect(await screen.findByTestId('count-Pending messages')).toHaveTextContent('4');
    expect(within(screen.getByRole('navigation', { name: 'Main' })).getByTestId('nav-pending')).toHaveTextContent('4 pending');
    // The status history: a labelled chart, its numbers in a table.
    const chart = await screen.findByRole('img', { name: /Orchestrators by status: active now 7, inactive now 3, independent now 1/ });
    expect(chart.querySelectorAll('polyline')).toHaveLength(3);
    const recent = screen.getByRole('region', { name: 'Recent status changes' });
    expect(await within(recent).findByText('made independent by bob')).toBeInTheDocument();
    expect(within(recent).getAllByRole('listitem')).toHaveLength(1); // messages are not status changes
    const ws = FakeSocket.latest();
    act(() => {
      ws.open();
      ws.receive({ type: 'subscribed' });
      ws.receive({ type: 'event', kind: 'status_changed', orchestrator_id: 'orch-9', old_value: 'active', new_value: 'inactive', time: new Date().toISOString() });
    });
    expect(within(recent).getByRole('link', { name: 'orch-9' })).toBeInTheDocument();
    expect(within(recent).getByText('status active → inactive')).toBeInTheDocument();
    // Newest first.
    expect(within(recent).getAllByRole('listitem')[0]).toHaveTextContent('orch-9');
  });

  // Six hours of minutes from the host: what the latency chart has on first load.
  const ackHistory = (n: number, withAck = true) => {
    const t0 = Date.now() - n * 60_000;
    return {
      success: true,
      data: {
        interval_sec: 60,
        organization_id: null,
        items: Array.from({ length: n + 1 }, (_, i) => ({
          time: new Date(t0 + i * 60_000).toISOString(),
          active: 3,
          inactive: 0,
          independent: 0,
          // minute 0: started before any heartbeat; minute 5: none acknowledged; last: "now", none yet
          ...(withAck ? { ack_ms: i === 0 || i === 5 || i === n ? null : 0.02 + i / 1000, ack_p99_ms: i === 0 || i === 5 || i === n ? null : 0.05 } : {}),
        })),
      },
    };
  };
  const overviewApi = (history: unknown) =>
    new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/overview', () => overview)
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
      .on('GET /api/v1/internal/events', () => page([]))
      .on('GET /api/v1/controller/status-history', () => history);

  it('charts heartbeat ack latency from the host’s history as soon as the page opens', async () => {
    signedInAs(superadmin);
    const api = overviewApi(ackHistory(360));
    renderApp(api, '/');
    const card = await screen.findByRole('region', { name: 'Heartbeat ack latency' });
    const chart = await within(card).findByRole('img', { name: 'Heartbeat ack latency, milliseconds: mean now 0.379, p99 now 0.050' });
    // Every sample with a mean is a point; the trailing "now" without one is left out, and so are the quiet minutes.
    const [mean, p99] = [...chart.querySelectorAll('polyline')].map((l) => l.getAttribute('points')!.trim().split(' '));
    expect(mean).toHaveLength(358);
    expect(p99).toHaveLength(358);
    expect(within(card).getAllByRole('row')).toHaveLength(1 + 360); // header + minutes 0..359
    expect(within(card).getByTestId('ack-latency-now')).toHaveTextContent('Latest: 0.379 ms (p99 0.050 ms)');
    expect(within(card).getByText(/Per sample interval \(1 min\)/)).toBeInTheDocument();
    // One request feeds both charts, and nothing is read from /metrics.
    expect(api.callsTo('GET /api/v1/controller/status-history')).toHaveLength(1);
    expect(api.calls.filter((c) => c.path === '/metrics')).toHaveLength(0);
    expect(await screen.findByRole('img', { name: /Orchestrators by status: active now 3/ })).toBeInTheDocument();
  });

  it('says so when the controller keeps no latency, or none was acknowledged', async () => {
    signedInAs(superadmin);
    const older = renderApp(overviewApi(ackHistory(3, false)), '/');
    let card = await screen.findByRole('region', { name: 'Heartbeat ack latency' });
    expect(await within(card).findByText('This controller does not report heartbeat ack latency.')).toBeInTheDocument();
    older.unmount();
    const quiet = ackHistory(1);
    renderApp(overviewApi(quiet), '/'); // the start sample and "now", neither with an ack
    card = await screen.findByRole('region', { name: 'Heartbeat ack latency' });
    expect(await within(card).findByText('No heartbeat acknowledged in the last 6 hours.')).toBeInTheDocument();
    expect(within(card).queryByRole('img')).toBeNull();
  });

  it('shows an org_admin no latency card (a fleet-wide number)', async () => {
    signedInAs(orgAdmin);
    renderApp(overviewApi(ackHistory(3, false)), '/');
    expect(await screen.findByRole('img', { name: /Orchestrators by status/ })).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Heartbeat ack latency' })).toBeNull();
  });
});
