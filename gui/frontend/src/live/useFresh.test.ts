import type { Orchestrator } from '../api/types';
import { orchestratorUrl } from './eventStream';
import { mergeFresh } from './useFresh';

const o = (over: Partial<Orchestrator> = {}): Orchestrator => ({
  orchestrator_id: 'a',
  organization_id: 'acme',
  status: 'inactive',
  is_independent: false,
  connected: true,
  last_seen: '2026-01-01T00:00:00Z',
  ...over,
});

describe('mergeFresh', () => {
  it('takes status, connection and last seen from the summary, and says when a status moved', () => {
    const rows = [o(), o({ orchestrator_id: 'b' })];
    const r = mergeFresh(rows, [{ orchestrator_id: 'a', organization_id: 'acme', status: 'active', is_independent: false, connected: true, last_seen: '2026-01-01T00:01:00Z' }]);
    expect(r.statusChanged).toBe(true);
    expect(r.rows[0]).toMatchObject({ status: 'active', last_seen: '2026-01-01T00:01:00Z' });
    expect(r.rows[1]).toBe(rows[1]);
  });

  it('returns the same array when nothing changed', () => {
    const rows = [o()];
    const r = mergeFresh(rows, [{ orchestrator_id: 'a', organization_id: 'acme', status: 'inactive', is_independent: false, connected: true, last_seen: '2026-01-01T00:00:00Z' }]);
    expect(r.rows).toBe(rows);
    expect(r.statusChanged).toBe(false);
  });
});

describe('orchestratorUrl', () => {
  const cfg = { ws_port: 8766, events_path: '/api/v1/events', poll_interval_ms: 10000, rest_port: 8765 };
  it('is the WebSocket port’s /ws, or the proxy’s', () => {
    expect(orchestratorUrl({ protocol: 'http:', host: 'ctl:8765', hostname: 'ctl', port: '8765' }, cfg)).toBe('ws://ctl:8766/ws');
    expect(orchestratorUrl({ protocol: 'https:', host: 'moolai.example', hostname: 'moolai.example', port: '' }, cfg)).toBe('wss://moolai.example/ws');
    expect(orchestratorUrl({ protocol: 'http:', host: 'x', hostname: 'x', port: '8765' }, { ...cfg, events_url: 'wss://edge.example/api/v1/events' })).toBe('wss://edge.example/ws');
  });
});
