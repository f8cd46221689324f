import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, page, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';
import type { LogLine } from '../api/types';
import { shownLines } from './LogsPage';

const line = (time: string, message: string, level: LogLine['level'] = 'info'): LogLine => ({ time, level, source: 'host', message });

describe('Logs', () => {
  beforeEach(() => FakeSocket.reset());

  it('shows the newest first, searches (in the URL) and tails live', async () => {
    signedInAs(superadmin);
    let lines = [line('2026-01-01T00:00:01Z', 'first'), line('2026-01-01T00:00:02Z', 'second heartbeat')];
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
      .on('GET /api/v1/internal/logs', () => ({ success: true, data: { items: lines } }));
    renderApp(api, '/logs');
    const table = await screen.findByRole('table');
    const messages = () => within(table).getAllByRole('row').slice(1).map((r) => r.lastElementChild!.textContent);
    expect(messages()).toEqual(['second heartbeat', 'first']);
    // The live tail asks again every 2 s, without a click.
    lines = [...lines, line('2026-01-01T00:00:03Z', 'third')];
    await waitFor(() => expect(messages()[0]).toBe('third'), { timeout: 4000 });
    await userEvent.type(screen.getByLabelText('Search'), 'heart');
    await waitFor(() => expect(messages()).toEqual(['second heartbeat']));
    await userEvent.click(screen.getByLabelText(/Live tail/));
    expect(screen.getByLabelText(/Live tail/)).not.toBeChecked();
  });

  it('filters lines by text, source and level', () => {
    const l = [line('1', 'alpha'), line('2', 'beta', 'warn')];
    expect(shownLines(l, 'WARN').map((x) => x.message)).toEqual(['beta']);
    expect(shownLines(l, '').map((x) => x.message)).toEqual(['beta', 'alpha']);
  });
});

describe('Audit', () => {
  beforeEach(() => FakeSocket.reset());

  it('asks for a date range (the end day included) and keeps every filter in the URL', async () => {
    signedInAs(superadmin);
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
      .on('GET /api/v1/internal/audit', () =>
        page([{ id: 1, time: new Date().toISOString(), actor: 'root', action: 'organization_updated', organization_id: 'acme' }]),
      );
    renderApp(api, '/audit?actor=ro');
    await screen.findByRole('cell', { name: 'organization updated' });
    expect(screen.getByLabelText('Actor')).toHaveValue('ro');
    expect(api.callsTo('GET /api/v1/internal/audit')[0]!.query.get('actor')).toBe('ro');
    await userEvent.type(screen.getByLabelText('From'), '2026-11-01');
    await userEvent.type(screen.getByLabelText('To'), '2026-11-10');
    await waitFor(() => {
      const last = api.callsTo('GET /api/v1/internal/audit').slice(-1)[0]!;
      expect(last.query.get('from')).toBe('2026-11-01');
      expect(last.query.get('to')).toBe('2026-11-11');
    });
  });
});
