import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

function controller() {
  const users = [
    { username: 'admin', role: 'superadmin', organization_id: null },
    { username: 'alice', role: 'org_admin', organization_id: 'acme' },
  ];
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
    .on('GET /api/v1/controller/organizations', () => page([{ organization_id: 'acme', name: 'Acme' }, { organization_id: 'globex', name: 'Globex' }]))
    .on('GET /api/v1/internal/users', () => page(users))
    .on('PUT /api/v1/internal/users/alice', (req) => {
      const b = req.body as { role?: string; organization_id?: string; password?: string };
      if (b.role) Object.assign(users[1]!, { role: b.role, organization_id: b.role === 'superadmin' ? null : b.organization_id });
      return { success: true, data: { ...users[1], sessions_ended: b.password ? 2 : 1 } };
    });
}

describe('UsersPage', () => {
  beforeEach(() => FakeSocket.reset());

  it('changes a user’s role and organization', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Change role of alice' }));
    expect(screen.queryByRole('button', { name: 'Change role of admin' })).not.toBeInTheDocument(); // not one's own
    const dialog = await screen.findByRole('dialog', { name: 'Role of alice' });
    await userEvent.selectOptions(within(dialog).getByLabelText('Organization'), 'globex');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save role' }));
    expect(await screen.findByText('alice is now org_admin of globex. 1 open session ended.')).toBeInTheDocument();
    expect(api.callsTo('PUT /api/v1/internal/users/alice')[0]!.body).toEqual({ role: 'org_admin', organization_id: 'globex' });
  });

  it('sets a new password, at least 8 characters, and says the open sessions end', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/users');
    await userEvent.click(await screen.findByRole('button', { name: 'Reset password of alice' }));
    const dialog = await screen.findByRole('dialog', { name: 'New password for alice' });
    const input = within(dialog).getByLabelText('New password');
    expect(input).toHaveAccessibleDescription('At least 8 characters. The user’s open sessions end at once.');
    await userEvent.type(input, 'short');
    expect(within(dialog).getByRole('button', { name: 'Set password' })).toBeDisabled();
    await userEvent.type(input, '-but-now-long');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Set password' }));
    expect(await screen.findByText('New password set for alice. 2 open sessions ended.')).toBeInTheDocument();
    expect(api.callsTo('PUT /api/v1/internal/users/alice')[0]!.body).toEqual({ password: 'short-but-now-long' });
  });

  it('says one’s own new password keeps this session', async () => {
    signedInAs(superadmin);
    renderApp(controller(), '/users');
    await userEvent.click(await screen.findByRole('button', { name: `Reset password of ${superadmin.username}` }));
    const dialog = await screen.findByRole('dialog', { name: `New password for ${superadmin.username}` });
    expect(within(dialog).getByLabelText('New password')).toHaveAccessibleDescription('At least 8 characters. Your other sessions end; this one stays signed in.');
  });

  it('asks the controller to sort the whole list and keeps the order in the URL', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/users');
    await screen.findByRole('button', { name: 'Change role of alice' });
    const header = screen.getByRole('columnheader', { name: /Role/ });
    await userEvent.click(within(header).getByRole('button'));
    await userEvent.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'descending');
    const last = api.callsTo('GET /api/v1/internal/users').slice(-1)[0]!;
    expect(last.query.get('sort')).toBe('role');
    expect(last.query.get('order')).toBe('desc');
  });
});
