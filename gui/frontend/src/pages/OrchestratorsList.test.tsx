// The fleet list's second round: fresh last seen, one truth for status,
// page size, sorting, the empty state past the last page, bulk independence
// and CSV export.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Orchestrator } from '../api/types';
import { freshTiming } from '../live/useFresh';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

function fleet(n: number): Orchestrator[] {
  return Array.from({ length: n }, (_, i) => ({
    orchestrator_id: `o-${String(i).padStart(3, '0')}`,
    name: `Node ${String.fromCharCode(90 - (i % 26))}${i}`,
    organization_id: 'acme',
    status: 'active',
    is_independent: false,
    last_seen: new Date(Date.now() - 65_000).toISOString(),
    connected: true,
  }));
}

/** `serverSorts`: the controller sorts the whole list by name when asked (ABI 1.3 storage), else it ignores sort. */
function controller(all = fleet(120), serverSorts = false) {
  const independent = new Map<string, boolean>();
  const api = new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
    .on('GET /api/v1/controller/organizations', () => page([{ organization_id: 'acme', name: 'Acme' }]))
    .on('GET /api/v1/controller/orchestrators', (req) => {
      const p = Number(req.query.get('page') ?? 1);
      const size = Number(req.query.get('page_size') ?? 50);
      const rows = all.map((o) => (independent.get(o.orchestrator_id) ? { ...o, is_independent: true, status: 'independent' as const } : o));
      const sort = req.query.get('sort');
      if (serverSorts && sort === 'name') {
        const desc = req.query.get('order') === 'desc';
        rows.sort((a, b) => (desc ? -1 : 1) * a.name!.toLowerCase().localeCompare(b.name!.toLowerCase()));
        const out = page(rows.slice((p - 1) * size, p * size), rows.length, p, size);
        return { ...out, data: { ...out.data, sort, order: desc ? 'desc' : 'asc' } };
      }
      return page(rows.slice((p - 1) * size, p * size), rows.length, p, size);
    })
    .on('GET /api/v1/controller/orchestrators/last-seen', (req) => ({
      success: true,
      data: {
        server_time: new Date().toISOString(),
        heartbeat_ttl_sec: 90,
        items: (req.query.get('ids') ?? '').split(',').map((id) => ({
          orchestrator_id: id,
          organization_id: 'acme',
          status: independent.get(id) ? 'independent' : 'active',
          is_independent: independent.get(id) ?? false,
          connected: true,
          last_seen: new Date(Date.now() - 2000).toISOString(),
        })),
      },
    }));
  for (const o of all)
    api.on(`PUT /api/v1/internal/orchestrators/${o.orchestrator_id}/independence`, (req) => {
      const on = (req.body as { is_independent: boolean }).is_independent;
      independent.set(o.orchestrator_id, on);
      return { success: true, is_independent: on };
    });
  return api;
}

const rows = () => screen.getAllByRole('row').slice(1);

describe('the fleet list', () => {
  beforeEach(() => {
    FakeSocket.reset();
    freshTiming.ms = 5000;
  });

  it('keeps last seen fresh from the controller’s memory without events', async () => {
    freshTiming.ms = 100;
    signedInAs(superadmin);
    const api = controller(fleet(3));
    renderApp(api, '/orchestrators');
    await screen.findByText('Node Z0');
    expect(within(rows()[0]!).getByText('1 min ago')).toBeInTheDocument();
    // The summary says a heartbeat arrived 2 s ago: the row follows, no reload of the list.
    const listCalls = api.callsTo('GET /api/v1/controller/orchestrators').length;
    await waitFor(() => expect(within(rows()[0]!).getByText('just now')).toBeInTheDocument());
    const asked = api.callsTo('GET /api/v1/controller/orchestrators/last-seen')[0]!;
    expect(asked.query.get('ids')).toBe('o-000,o-001,o-002');
    expect(api.callsTo('GET /api/v1/controller/orchestrators').length).toBe(listCalls);
  });

  it('says a page past the last one is past the last page, not that there are none', async () => {
    signedInAs(superadmin);
    renderApp(controller(), '/orchestrators?page=5');
    expect(await screen.findByText(/Page 5 is past the last page \(3\) of 120 results/)).toBeInTheDocument();
    expect(screen.queryByText(/No orchestrators yet/)).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Go to page 1' }));
    expect(await screen.findByText('Node Z0')).toBeInTheDocument();
  });

  it('changes the page size and sorts by a column', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/orchestrators');
    await screen.findByText('Node Z0');
    await userEvent.selectOptions(screen.getByLabelText('Per page'), '25');
    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('page_size')).toBe('25');
    expect(screen.getByText('1–25 of 120')).toBeInTheDocument();

    const header = screen.getByRole('columnheader', { name: /Orchestrator/ });
    expect(header).toHaveAttribute('aria-sort', 'none');
    await userEvent.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'ascending');
    const names = () => rows().map((r) => within(r).getAllByRole('link')[0]!.textContent!);
    const asc = names();
    expect([...asc].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))).toEqual(asc);
    await userEvent.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'descending');
    expect(names()).toEqual([...asc].reverse());
  });

  it('asks the controller to sort the whole fleet, keeps the order in the URL and shows its rows as sent', async () => {
    signedInAs(superadmin);
    const api = controller(fleet(120), true);
    renderApp(api, '/orchestrators?page=2');
    await screen.findByText('51–100 of 120');
    const header = screen.getByRole('columnheader', { name: /Orchestrator/ });
    await userEvent.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'ascending');
    // A new order starts at page 1, and the controller was asked for it.
    await screen.findByText('1–50 of 120');
    const asked = api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!;
    expect(asked.query.get('sort')).toBe('name');
    expect(asked.query.get('order')).toBe('asc');
    expect(asked.query.get('page')).toBe('1');
    const names = () => rows().map((r) => within(r).getAllByRole('link')[0]!.textContent!);
    // Across the whole fleet: "Node A…" rows come first, not this page's first letters.
    expect(names()[0]).toMatch(/^Node A/);
    await userEvent.click(within(header).getByRole('button'));
    await waitFor(() => expect(names()[0]).toMatch(/^Node Z/));
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('order')).toBe('desc');
    expect(screen.queryByText(/Sorted within this page only/)).not.toBeInTheDocument();
    // The connection is live state, not sortable.
    expect(within(screen.getByRole('columnheader', { name: 'Connection' })).queryByRole('button')).toBeNull();
  });

  it('offers the order as one picker too (narrow screens show cards, not headers)', async () => {
    signedInAs(superadmin);
    const api = controller(fleet(120), true);
    renderApp(api, '/orchestrators');
    await screen.findByText('1–50 of 120');
    await userEvent.selectOptions(screen.getByLabelText('Sort by'), 'Orchestrator ↓');
    await waitFor(() => expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('order')).toBe('desc'));
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('sort')).toBe('name');
    expect(screen.getByRole('columnheader', { name: /Orchestrator/ })).toHaveAttribute('aria-sort', 'descending');
    await userEvent.selectOptions(screen.getByLabelText('Sort by'), 'default order');
    await waitFor(() => expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('sort')).toBeNull());
  });

  it('says so when the controller cannot sort, and sorts the page it has', async () => {
    signedInAs(superadmin);
    renderApp(controller(fleet(120), false), '/orchestrators?sort=name&order=desc');
    await screen.findByText('1–50 of 120');
    expect(screen.getByText(/Sorted within this page only/)).toBeInTheDocument();
    const names = rows().map((r) => within(r).getAllByRole('link')[0]!.textContent!);
    expect([...names].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))).toEqual(names);
  });

  it('makes the selected orchestrators independent after one confirmation', async () => {
    signedInAs(superadmin);
    const api = controller(fleet(5));
    renderApp(api, '/orchestrators');
    await screen.findByText('Node Z0');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Node Z0' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Node X2' }));
    const bar = screen.getByRole('group', { name: 'Independence of the selected orchestrators' });
    await userEvent.click(within(bar).getByRole('button', { name: 'Make independent' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Make 2 selected independent?');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Make independent' }));
    expect(await within(bar).findByText('2 orchestrators now independent.')).toBeInTheDocument();
    expect(within(bar).getByText('0 selected')).toBeInTheDocument();
    const puts = api.calls.filter((c) => c.method === 'PUT').map((c) => c.path);
    expect(puts.sort()).toEqual(['/api/v1/internal/orchestrators/o-000/independence', '/api/v1/internal/orchestrators/o-002/independence']);
    await waitFor(() => expect(within(rows()[0]!).getByText('independent')).toBeInTheDocument());
    expect(within(rows()[1]!).getByText('active (heartbeat)')).toBeInTheDocument();
  });

  it('exports every matching orchestrator as CSV', async () => {
    signedInAs(superadmin);
    const api = controller();
    let blob: Blob | null = null;
    const create = vi.fn((b: Blob) => {
      blob = b;
      return 'blob:csv';
    });
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    renderApp(api, '/orchestrators');
    await screen.findByText('Node Z0');
    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const text = await new Promise<string>((resolve) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.readAsText(blob as unknown as Blob);
    });
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('orchestrator_id,name,organization_id,status,is_independent,connected,last_seen');
    expect(lines).toHaveLength(121);
    expect(api.callsTo('GET /api/v1/controller/orchestrators').slice(-1)[0]!.query.get('page_size')).toBe('1000');
  });

  it('keeps a live badge and the summary in agreement', async () => {
    freshTiming.ms = 100;
    signedInAs(superadmin);
    renderApp(controller(fleet(2)), '/orchestrators');
    await screen.findByText('Node Z0');
    const ws = FakeSocket.latest();
    act(() => {
      ws.open();
      ws.receive({ type: 'subscribed', role: 'superadmin' });
      ws.receive({ type: 'event', kind: 'independence_changed', orchestrator_id: 'o-000', old_value: 'true', new_value: 'false', actor: 'bob' });
    });
    // Never "inactive" next to "connected".
    for (let i = 0; i < 5; i++) {
      const r = within(rows()[0]!);
      expect(r.queryByText('inactive')).not.toBeInTheDocument();
      await new Promise((res) => setTimeout(res, 60));
    }
  });
});
