import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

function controller() {
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 3 }))
    .on('GET /api/v1/internal/plugins', () => ({ success: true, data: { items: [] }, host_abi_version: '1.0' }));
}

describe('Layout', () => {
  beforeEach(() => {
    FakeSocket.reset();
    localStorage.removeItem('moolai.theme');
    delete document.documentElement.dataset.theme;
  });

  it('closes the menu on Escape and gives focus back to its button', async () => {
    signedInAs(superadmin);
    renderApp(controller(), '/plugins');
    const menu = await screen.findByRole('button', { name: 'Menu' });
    await userEvent.click(menu);
    expect(menu).toHaveAttribute('aria-expanded', 'true');
    await userEvent.keyboard('{Escape}');
    expect(menu).toHaveAttribute('aria-expanded', 'false');
    expect(menu).toHaveFocus();
  });

  it('puts Log out after the navigation, and shows the pending count in it', async () => {
    signedInAs(superadmin);
    renderApp(controller(), '/plugins');
    const logout = await screen.findByRole('button', { name: 'Log out' });
    const lastLink = screen.getByRole('link', { name: 'Cluster' });
    expect(lastLink.compareDocumentPosition(logout) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(await screen.findByRole('link', { name: 'Messages 3 pending' })).toHaveAttribute('href', '/messages');
  });

  it('switches the theme and remembers it', async () => {
    signedInAs(superadmin);
    renderApp(controller(), '/plugins');
    const theme = await screen.findByLabelText('Theme');
    expect(theme).toHaveValue('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
    await userEvent.selectOptions(theme, 'dark');
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe('dark'));
    expect(localStorage.getItem('moolai.theme')).toBe('dark');
    await userEvent.selectOptions(theme, 'system');
    await waitFor(() => expect(document.documentElement.dataset.theme).toBeUndefined());
    expect(localStorage.getItem('moolai.theme')).toBeNull();
  });
});
