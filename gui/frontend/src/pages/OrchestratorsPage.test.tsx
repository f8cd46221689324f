import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Orchestrator } from '../api/types';
import { FakeController, FakeSocket, orgAdmin, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

function fleet(n: number): Orchestrator[] {
  return Array.from({ length: n }, (_, i) => ({
    orchestrator_id: `orch-${String(i).padStart(5, '0')}`,
    organization_id: i % 2 ? 'acme' : 'globex',
    status: i % 3 === 0 ? 'active' : i % 3 === 1 ? 'inactive' : 'independent',
    is_independent: i % 3 === 2,
    last_seen: new Date(Date.now() - 65_000).toISOString(),
    connected: i % 3 === 0,
  }));
}

/** A controller holding 50,000 orchestrators and paging them like the real one. */
function controller() {
  const all = fleet(50_000);
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/controller/organizations', () => page([{ organization_id: 'acme', name: 'Acme' }, { organization_id: 'globex', name: 'Globex' }]))
    .on('GET /api/v1/controller/orchestrators', (req) => {
      const p = Number(req.query.get('page') ?? 1);
      const size = Number(req.query.get('page_size') ?? 50);
      const status = req.query.get('status');
      const search = req.query.get('search');
      const rows = all.filter((o) => (!status || o.status === status) && (!search || o.orchestrator_id.includes(search)));
      return page(rows.slice((p - 1) * size, p * size), rows.length, p, size);
    });
}

const rows = () => screen.getAllByRole('row').slice(1);

describe('OrchestratorsPage', () => {
  beforeEach(() => FakeSocket.reset());

  it('shows one page of a 50,000 fleet with the seed badges and relative last seen', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/orchestrators');
    expect(await screen.findByText('orch-00000')).toBeInTheDocument();
    expect(rows()).toHaveLength(50);
    expect(screen.getByText('1–50 of 50,000')).toBeInTheDocument();
    const first = within(rows()[0]!);
    expect(first.getByText('active (heartbeat)')).toBeInTheDocument();
    expect(first.getByText('1 min ago')).toBeInTheDocument();
    expect(within(rows()[2]!).getByText('independent')).toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/controller/orchestrators')[0]!.query.get('page_size')).toBe('50');
  });

  it('asks the controller for the next page, the status and the search', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/orchestrators');
    await screen.findByText('orch-00000');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('orch-00050')).toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('page')).toBe('2');

    await userEvent.selectOptions(screen.getByLabelText('Status'), 'inactive');
    expect(await screen.findByText('orch-00001')).toBeInTheDocument();
    const byStatus = api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!;
    expect(byStatus.query.get('status')).toBe('inactive');
    expect(byStatus.query.get('page')).toBe('1'); // a new filter starts at page 1
    expect(rows().every((r) => within(r).queryByText('inactive'))).toBe(true);

    await userEvent.type(screen.getByLabelText('Search'), 'orch-4999');
    expect(await screen.findByText('orch-49990', {}, { timeout: 2000 })).toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('search')).toBe('orch-4999');
  }, 20000);

  it('changes a badge on a live event without reloading', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/orchestrators');
    await screen.findByText('orch-00000');
    const ws = FakeSocket.latest();
    act(() => {
      ws.open();
      ws.receive({ type: 'subscribed', role: 'superadmin' });
    });
    const before = api.callsTo('GET /api/v1/controller/orchestrators').length;
    act(() => ws.receive({ type: 'event', kind: 'independence_changed', orchestrator_id: 'orch-00000', old_value: 'false', new_value: 'true', actor: 'bob' }));
    // Patched at once, before any refetch...
    expect(within(rows()[0]!).getByText('independent')).toBeInTheDocument();
    expect(screen.getByText('Live')).toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/controller/orchestrators').length).toBe(before);
    // ...then one refetch confirms the rows on screen; events about rows elsewhere cause none.
    await waitFor(() => expect(api.callsTo('GET /api/v1/controller/orchestrators').length).toBe(before + 1));
    act(() => ws.receive({ type: 'event', kind: 'status_changed', orchestrator_id: 'orch-49999', old_value: 'active', new_value: 'inactive' }));
    await new Promise((r) => setTimeout(r, 400));
    expect(api.callsTo('GET /api/v1/controller/orchestrators').length).toBe(before + 1);
  });

  it('offers no organization filter to an org_admin', async () => {
    signedInAs(orgAdmin);
    renderApp(controller(), '/orchestrators');
    await screen.findByText('orch-00000');
    expect(screen.queryByLabelText('Organization')).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Users' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Logs' })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'My organization' })).toHaveAttribute('href', '/organizations/acme');
  });
});
