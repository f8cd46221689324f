import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Message } from '../api/types';
import { deliveryText } from '../components/Messages';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

const msg = (id: string, over: Partial<Message> = {}): Message => ({
  id,
  orchestrator_id: 'edge-1',
  message_type: 'recommendation',
  content: `content of ${id}`,
  status: 'pending',
  delivery_state: 'none',
  created_at: new Date().toISOString(),
  ...over,
});

describe('the messages inbox', () => {
  beforeEach(() => FakeSocket.reset());

  it('lists pending messages fleet-wide, filters in the URL, accepts from the list', async () => {
    signedInAs(superadmin);
    const store = [msg('m1'), msg('m2', { orchestrator_id: 'edge-2', message_type: 'monitoring' })];
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/organizations', () => page([{ organization_id: 'acme', name: 'Acme' }]))
      .on('GET /api/v1/internal/messages', (req) => {
        const rows = store.filter(
          (m) => (!req.query.get('status') || m.status === req.query.get('status')) && (!req.query.get('message_type') || m.message_type === req.query.get('message_type')),
        );
        return { success: true, data: rows, total: rows.length };
      })
      .on('PUT /api/v1/internal/messages/m1/status', () => {
        store[0] = { ...store[0]!, status: 'accepted', delivery_state: 'sent' };
        return { success: true, data: store[0] };
      });
    renderApp(api, '/messages');
    const list = await screen.findByRole('list', { name: 'Messages' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(within(list).getByRole('link', { name: 'edge-2' })).toHaveAttribute('href', '/orchestrators/edge-2');
    expect(api.callsTo('GET /api/v1/internal/messages').slice(-1)[0]!.query.get('status')).toBe('pending');

    await userEvent.selectOptions(screen.getByLabelText('Type'), 'recommendation');
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Messages' })).getAllByRole('listitem')).toHaveLength(1));
    expect(api.callsTo('GET /api/v1/internal/messages').slice(-1)[0]!.query.get('message_type')).toBe('recommendation');

    await userEvent.click(screen.getByRole('button', { name: /^Accept: content of m1/ }));
    expect(await screen.findByText('Nothing to review: no pending messages.')).toBeInTheDocument();
    expect(api.callsTo('PUT /api/v1/internal/messages/m1/status')[0]!.body).toEqual({ status: 'accepted' });
  });

  it('an accepted monitoring message does not read "not sent"', () => {
    const m = msg('m3', { message_type: 'monitoring', status: 'accepted', delivery_state: 'none' });
    expect(deliveryText(m)).not.toMatch(/not sent/);
    expect(deliveryText(m)).toMatch(/^recorded/);
    expect(deliveryText({ ...m, message_type: 'recommendation' })).toBe('not sent');
  });
});
