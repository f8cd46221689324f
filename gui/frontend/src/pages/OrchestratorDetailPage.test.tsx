import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Message, Orchestrator } from '../api/types';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

function controller() {
  const orch: Orchestrator = { orchestrator_id: 'orch-1', organization_id: 'acme', name: 'Edge one', status: 'active', is_independent: false, connected: true, last_seen: new Date().toISOString() };
  const messages: Message[] = [
    { id: 'm1', orchestrator_id: 'orch-1', message_type: 'recommendation', content: 'Enable the cache', status: 'pending', delivery_state: 'none', created_at: new Date().toISOString() },
    { id: 'm2', orchestrator_id: 'orch-1', message_type: 'monitoring', content: 'Latency is high', status: 'pending', delivery_state: 'none', created_at: new Date().toISOString() },
  ];
  const audit: unknown[] = [];
  const api = new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/controller/orchestrators/orch-1', () => ({ success: true, data: { ...orch, status: orch.is_independent ? 'independent' : orch.status } }))
    .on('GET /api/v1/internal/audit', () => page(audit))
    .on('GET /api/v1/internal/orchestrators/orch-1/messages', () => ({ success: true, data: messages, total: messages.length }))
    .on('PUT /api/v1/internal/orchestrators/orch-1/independence', (req) => {
      const on = (req.body as { is_independent: boolean }).is_independent;
      audit.unshift({ id: audit.length + 1, time: new Date().toISOString(), actor: 'admin', action: 'independence_toggled', orchestrator_id: 'orch-1', old_value: String(orch.is_independent), new_value: String(on) });
      orch.is_independent = on;
      return { success: true, message: 'Independence mode updated', orchestrator_id: 'orch-1', is_independent: on };
    })
    .on('PUT /api/v1/internal/messages/m1/status', (req) => {
      const m = messages[0]!;
      m.status = (req.body as { status: 'accepted' }).status;
      m.delivery_state = 'sent';
      return { success: true, data: { ...m } };
    });
  return { api, messages };
}

describe('OrchestratorDetailPage', () => {
  beforeEach(() => {
    FakeSocket.reset();
    signedInAs(superadmin);
  });

  it('asks before making an orchestrator independent, then hides its messages', async () => {
    const { api } = controller();
    renderApp(api, '/orchestrators/orch-1');
    expect(await screen.findByText('Enable the cache')).toBeInTheDocument();
    expect(await screen.findByText('Never changed.')).toBeInTheDocument();
    const toggle = screen.getByRole('switch', { name: 'Operate independently' });
    expect(toggle).toHaveAttribute('aria-checked', 'false');

    // Cancel changes nothing.
    await userEvent.click(toggle);
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(api.callsTo('PUT /api/v1/internal/orchestrators/orch-1/independence')).toHaveLength(0);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(toggle).toHaveFocus(); // focus returns to the switch

    await userEvent.click(toggle);
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Make independent' }));
    expect(await screen.findByText('This orchestrator operates independently')).toBeInTheDocument();
    expect(api.callsTo('PUT /api/v1/internal/orchestrators/orch-1/independence')[0]!.body).toEqual({ is_independent: true });
    expect(screen.queryByText('Enable the cache')).not.toBeInTheDocument();
    expect(screen.getByRole('switch', { name: 'Operate independently' })).toHaveAttribute('aria-checked', 'true');
    expect(within(screen.getByRole('region', { name: 'Details' })).getByText('independent')).toBeInTheDocument();
    // who and when, from the audit log
    const last = screen.getByTestId('independence-last-change');
    await within(last).findByText('admin');
    expect(last).toHaveTextContent(/Last changed by admin just now \(off → on\)/);
  });

  it('closes the confirmation on Escape', async () => {
    const { api } = controller();
    renderApp(api, '/orchestrators/orch-1');
    await userEvent.click(await screen.findByRole('switch', { name: 'Operate independently' }));
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('accepts a recommendation and shows its delivery, then follows live delivery changes', async () => {
    const { api, messages } = controller();
    renderApp(api, '/orchestrators/orch-1');
    await userEvent.click(await screen.findByRole('button', { name: 'Accept: Enable the cache' }));
    expect(api.callsTo('PUT /api/v1/internal/messages/m1/status')[0]!.body).toEqual({ status: 'accepted' });
    expect(await screen.findByText('sent, awaiting acknowledgement')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Accept: Enable the cache' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Dismiss: Latency is high' })).toBeInTheDocument();

    const ws = FakeSocket.latest();
    act(() => {
      ws.open();
      ws.receive({ type: 'subscribed' });
    });
    messages[0]!.delivery_state = 'acknowledged';
    act(() => ws.receive({ type: 'event', kind: 'message_changed', orchestrator_id: 'orch-1', subject_id: 'm1', old_value: 'sent', new_value: 'acknowledged' }));
    expect(await screen.findByText('delivered')).toBeInTheDocument();
  });

  it('ends on the latest delivery state even when the acknowledgement overtakes the review answer', async () => {
    const { api, messages } = controller();
    // The controller answers "sent", but the orchestrator has acknowledged meanwhile
    // (and that event reached the page before this answer did).
    api.on('PUT /api/v1/internal/messages/m1/status', () => {
      const m = messages[0]!;
      m.status = 'accepted';
      m.delivery_state = 'acknowledged';
      return { success: true, data: { ...m, delivery_state: 'sent' } };
    });
    renderApp(api, '/orchestrators/orch-1');
    await userEvent.click(await screen.findByRole('button', { name: 'Accept: Enable the cache' }));
    expect(await screen.findByText('delivered')).toBeInTheDocument();
  });

  it('follows a toggle made elsewhere, pushed over the stream', async () => {
    const { api } = controller();
    renderApp(api, '/orchestrators/orch-1');
    await screen.findByText('Enable the cache');
    const ws = FakeSocket.latest();
    act(() => {
      ws.open();
      ws.receive({ type: 'subscribed' });
      ws.receive({ type: 'event', kind: 'independence_changed', orchestrator_id: 'orch-1', old_value: 'false', new_value: 'true', actor: 'carol' });
    });
    expect(screen.getByText('This orchestrator operates independently')).toBeInTheDocument();
  });

  it('rotates the credential after confirmation and shows the new one once', async () => {
    const { api } = controller();
    api.on('POST /api/v1/internal/orchestrators/orch-1/credentials', () => ({ success: true, data: { orchestrator_id: 'orch-1', token: 'new-cred-9' } }));
    renderApp(api, '/orchestrators/orch-1');
    await userEvent.click(await screen.findByRole('button', { name: 'Rotate credential' }));
    expect(api.callsTo('POST /api/v1/internal/orchestrators/orch-1/credentials')).toHaveLength(0);
    await userEvent.click(within(screen.getByRole('dialog', { name: 'Issue a new credential?' })).getByRole('button', { name: 'Rotate credential' }));
    const shown = await screen.findByRole('dialog', { name: 'Credential for orch-1' });
    expect(within(shown).getByLabelText('Credential')).toHaveValue('new-cred-9');
  });

  it('says so when the orchestrator does not exist (or is another tenant’s)', async () => {
    const { api } = controller();
    renderApp(api, '/orchestrators/nope');
    expect(await screen.findByText(/No orchestrator “nope” here/)).toBeInTheDocument();
  });
});
