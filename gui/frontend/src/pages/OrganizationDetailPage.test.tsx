import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

describe('OrganizationDetailPage', () => {
  beforeEach(() => FakeSocket.reset());

  it('creates an orchestrator and shows its credential once, with copy', async () => {
    signedInAs(superadmin);
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/organizations/acme', () => ({ success: true, data: { organization_id: 'acme', name: 'Acme' } }))
      .on('GET /api/v1/controller/orchestrators', () => page([]))
      .on('POST /api/v1/internal/orchestrators', (req) => ({
        status: 201,
        body: { success: true, data: { ...(req.body as object), status: 'inactive', is_independent: false, token: 'cred-123456' } },
      }));
    renderApp(api, '/organizations/acme');
    await userEvent.click(await screen.findByText('New orchestrator'));
    await userEvent.type(screen.getByLabelText('Orchestrator id'), 'edge-7');
    await userEvent.click(screen.getByRole('button', { name: 'Create orchestrator' }));
    const dialog = await screen.findByRole('dialog', { name: 'Credential for edge-7' });
    expect(api.callsTo('POST /api/v1/internal/orchestrators')[0]!.body).toEqual({ orchestrator_id: 'edge-7', organization_id: 'acme', name: 'edge-7' });
    expect(within(dialog).getByLabelText('Credential')).toHaveValue('cred-123456');
    // With the WebSocket URL the orchestrator connects to (the controller's WS port, path /ws).
    expect(within(dialog).getByLabelText('WebSocket URL')).toHaveValue(`ws://${window.location.hostname}:8766/ws`);
    expect(dialog).toHaveTextContent('shown only now');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Copy credential' }));
    expect(writeText).toHaveBeenCalledWith('cred-123456');
    expect(within(dialog).getByText('Copied')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByDisplayValue('cred-123456')).not.toBeInTheDocument();
  });

  it('counts from the controller’s memory, edits the organization and says why a non-empty one is not deleted', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
      .on('GET /api/v1/controller/organizations/acme', () => ({ success: true, data: { organization_id: 'acme', name: 'Acme', location: 'Berlin' } }))
      .on('GET /api/v1/controller/overview', () => ({
        success: true,
        data: { by_organization: [{ organization_id: 'acme', name: 'Acme', active: 1, inactive: 1, independent: 0, total: 2 }] },
      }))
      .on('GET /api/v1/controller/orchestrators', () =>
        page([
          { orchestrator_id: 'a-1', organization_id: 'acme', status: 'active', is_independent: false, connected: true },
          { orchestrator_id: 'a-2', organization_id: 'acme', status: 'inactive', is_independent: false, connected: false },
        ]),
      )
      .on('PUT /api/v1/internal/organizations/acme', (req) => ({ success: true, data: { organization_id: 'acme', ...(req.body as object) } }))
      .on('DELETE /api/v1/internal/organizations/acme', () => ({
        status: 409,
        body: { success: false, error: { code: 'conflict', message: 'organization "acme" still has 2 orchestrator(s) and 0 user(s); deregister and delete them first' } },
      }));
    renderApp(api, '/organizations/acme');
    expect(await screen.findByTestId('org-counts')).toHaveTextContent('1 active (heartbeat), 1 inactive, 0 independent');
    expect(api.callsTo('GET /api/v1/controller/orchestrators').every((c) => !c.query.get('status'))).toBe(true);

    await userEvent.click(screen.getByText('Edit or delete'));
    const name = screen.getByLabelText('Name', { selector: '#org-edit-name' });
    await userEvent.clear(name);
    await userEvent.type(name, 'Acme Corp');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Acme Corp' })).toBeInTheDocument();
    expect(api.callsTo('PUT /api/v1/internal/organizations/acme')[0]!.body).toEqual({ name: 'Acme Corp', location: 'Berlin' });

    await userEvent.click(screen.getByRole('button', { name: 'Delete organization' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete organization' }));
    expect(await screen.findByTestId('org-delete-refused')).toHaveTextContent('Cannot delete: organization "acme" still has 2 orchestrator(s) and 0 user(s)');
  });

  it('makes the whole organization independent after one confirmation', async () => {
    signedInAs(superadmin);
    const rows = Array.from({ length: 3 }, (_, i) => ({ orchestrator_id: `a-${i}`, organization_id: 'acme', status: 'active', is_independent: false, connected: true }));
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
      .on('GET /api/v1/controller/organizations/acme', () => ({ success: true, data: { organization_id: 'acme', name: 'Acme' } }))
      .on('GET /api/v1/controller/overview', () => ({ success: true, data: { by_organization: [] } }))
      .on('GET /api/v1/controller/orchestrators', () => page(rows));
    for (const r of rows) api.on(`PUT /api/v1/internal/orchestrators/${r.orchestrator_id}/independence`, () => ({ success: true, is_independent: true }));
    renderApp(api, '/organizations/acme');
    const bar = await screen.findByRole('group', { name: 'Independence of every orchestrator of Acme' });
    await userEvent.click(within(bar).getByRole('button', { name: 'Make independent' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Make independent' }));
    expect(await within(bar).findByText('3 orchestrators now independent.')).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === 'PUT')).toHaveLength(3);
    // The ids came from a listing of the whole organization, not just this page.
    expect(api.callsTo('GET /api/v1/controller/orchestrators').some((c) => c.query.get('page_size') === '1000')).toBe(true);
  });
});
