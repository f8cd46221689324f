import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeController, FakeSocket, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';

const g = (key: string, cost: number) => ({ key, requests: 2, input_tokens: 200, output_tokens: 80, cost_usd: cost });

function controller() {
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/controller/costs', () => ({
      success: true,
      data: {
        from: '2026-10-29T00:00:00Z',
        to: '2026-11-29T00:00:00Z',
        total: { requests: 6, input_tokens: 600, output_tokens: 240, cost_usd: 1.5 },
        by_day: [g('2026-11-26', 0.25), g('2026-11-27', 0.5), g('2026-11-28', 0.75)],
        by_organization: [g('acme', 1.5)],
        by_orchestrator: [g('orch-1', 1), g('orch-2', 0.5)],
        by_model: [],
      },
    }));
}

describe('CostsPage', () => {
  beforeEach(() => FakeSocket.reset());

  it('draws a chart with a table under it for each grouping', async () => {
    signedInAs(superadmin);
    const { container } = renderApp(controller(), '/costs');
    expect(await screen.findByTestId('cost-total')).toHaveTextContent(/^\$1\.5000$/); // always 4 decimals
    const byDay = screen.getByRole('region', { name: 'Cost by day' });
    // Every day of the range is a column; days without usage are empty.
    expect(within(byDay).getByRole('img')).toHaveAccessibleName('Cost by day: 31 entries, total $1.5000');
    const columns = Array.from(byDay.querySelectorAll<HTMLElement>('[data-bar]'));
    expect(columns).toHaveLength(31);
    expect(columns[0]).toHaveAttribute('data-bar', '2026-10-29');
    expect(columns[0]!.style.height).toBe('0%');
    // The tallest column is the most expensive day; the others are in proportion.
    expect(byDay.querySelector<HTMLElement>('[data-bar="2026-11-28"]')!.style.height).toBe('100%');
    expect(byDay.querySelector<HTMLElement>('[data-bar="2026-11-26"]')!.style.height).toBe('33.33%');
    // The table lists only the days with usage.
    expect(within(screen.getByTestId('by-day-table')).getAllByRole('row')).toHaveLength(4);
    expect(within(screen.getByTestId('by-orchestrator-table')).getAllByRole('row')).toHaveLength(3);
    expect(within(screen.getByRole('region', { name: 'Cost by model' })).getByText('No usage in this range.')).toBeInTheDocument();
    expect(container.querySelectorAll('.chart')).toHaveLength(3);
    // Rows lead to the orchestrator and the organization.
    expect(within(screen.getByTestId('by-orchestrator-table')).getByRole('link', { name: 'orch-1' })).toHaveAttribute('href', '/orchestrators/orch-1');
    expect(within(screen.getByTestId('by-organization-table')).getByRole('link', { name: 'acme' })).toHaveAttribute('href', '/organizations/acme');
    expect(within(screen.getByTestId('by-orchestrator-table')).getByText('$0.5000')).toBeInTheDocument();
  });

  it('shows hourly buckets for a short range', async () => {
    signedInAs(superadmin);
    const now = Date.now();
    const hourKey = (t: number) => `${new Date(t).toISOString().slice(0, 13)}:00:00Z`;
    const api = new FakeController()
      .on('GET /api/v1/internal/ui-config', () => uiConfig)
      .on('GET /api/v1/controller/costs', () => ({
        success: true,
        data: {
          from: new Date(now - 86400000).toISOString(),
          to: new Date(now).toISOString(),
          total: { requests: 2, input_tokens: 20, output_tokens: 10, cost_usd: 0.025 },
          by_day: [],
          by_hour: [g(hourKey(now - 3 * 3600000), 0.0125), g(hourKey(now), 0.0125)],
          by_organization: [],
          by_orchestrator: [],
          by_model: [],
        },
      }));
    renderApp(api, '/costs?range=1');
    const byHour = await screen.findByRole('region', { name: 'Cost by hour (UTC)' });
    const columns = byHour.querySelectorAll('[data-bar]');
    expect(columns.length).toBeGreaterThanOrEqual(24);
    expect(columns.length).toBeLessThanOrEqual(25);
    expect(screen.queryByRole('region', { name: 'Cost by day' })).not.toBeInTheDocument();
    expect(within(screen.getByTestId('by-hour-table')).getAllByRole('row')).toHaveLength(3);
  });

  it('filters with organization and orchestrator pickers', async () => {
    signedInAs(superadmin);
    const api = controller()
      .on('GET /api/v1/controller/organizations', () => ({ success: true, data: { items: [{ organization_id: 'acme', name: 'Acme' }], total: 1, page: 1, page_size: 1000 } }))
      .on('GET /api/v1/controller/orchestrators', (req) => ({
        success: true,
        data: {
          items: req.query.get('organization_id') === 'acme' ? [{ orchestrator_id: 'orch-1', organization_id: 'acme', name: 'One', status: 'active', is_independent: false }] : [],
          total: 1,
          page: 1,
          page_size: 1000,
        },
      }));
    renderApp(api, '/costs');
    await screen.findByTestId('cost-total');
    await userEvent.selectOptions(await screen.findByRole('combobox', { name: 'Organization' }), 'acme');
    await userEvent.selectOptions(await screen.findByRole('combobox', { name: 'Orchestrator' }), await screen.findByRole('option', { name: 'One (orch-1)' }));
    const last = api.callsTo('GET /api/v1/controller/costs').slice(-1)[0]!;
    expect(last.query.get('organization_id')).toBe('acme');
    expect(last.query.get('orchestrator_id')).toBe('orch-1');
  });

  it('asks for the chosen range', async () => {
    signedInAs(superadmin);
    const api = controller();
    renderApp(api, '/costs');
    await screen.findByTestId('cost-total');
    await userEvent.selectOptions(screen.getByLabelText('Range'), 'custom');
    const from = screen.getByLabelText('From (UTC day)');
    const to = screen.getByLabelText('To (UTC day, inclusive)');
    await userEvent.clear(from);
    await userEvent.type(from, '2026-11-01');
    await userEvent.clear(to);
    await userEvent.type(to, '2026-11-10');
    const last = api.callsTo('GET /api/v1/controller/costs').slice(-1)[0]!;
    expect(last.query.get('from')).toBe('2026-11-01');
    expect(last.query.get('to')).toBe('2026-11-11'); // "to" is exclusive on the controller
  });
});
