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
    expect(dialog).toHaveTextContent('shown only now');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Copy credential' }));
    expect(writeText).toHaveBeenCalledWith('cred-123456');
    expect(within(dialog).getByText('Copied')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByDisplayValue('cred-123456')).not.toBeInTheDocument();
  });
});
