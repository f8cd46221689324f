import type { Orchestrator } from '../api/types';
import { patchOrchestrator } from './patch';

const base: Orchestrator = { orchestrator_id: 'o1', organization_id: 'acme', status: 'inactive', is_independent: false, connected: true };
const ev = (kind: string, new_value: string, orchestrator_id = 'o1') => ({ type: 'event' as const, kind, orchestrator_id, new_value, time: '2026-11-28T10:00:00Z' });

describe('patchOrchestrator', () => {
  it('applies a status change to the matching row only', () => {
    expect(patchOrchestrator(base, ev('status_changed', 'active'))).toMatchObject({ status: 'active', last_seen: '2026-11-28T10:00:00Z' });
    expect(patchOrchestrator(base, ev('status_changed', 'active', 'o2'))).toBe(base);
  });

  it('keeps an independent row independent through heartbeat status changes', () => {
    const ind = { ...base, is_independent: true, status: 'independent' as const };
    expect(patchOrchestrator(ind, ev('status_changed', 'active'))).toBe(ind);
  });

  it('turns independence on and off', () => {
    const on = patchOrchestrator(base, ev('independence_changed', 'true'));
    expect(on).toMatchObject({ is_independent: true, status: 'independent' });
    expect(patchOrchestrator(on, ev('independence_changed', 'false'))).toMatchObject({ is_independent: false, status: 'active' });
  });

  it('tracks the connection', () => {
    expect(patchOrchestrator(base, ev('orchestrator_disconnected', ''))).toMatchObject({ connected: false });
  });
});
