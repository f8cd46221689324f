// Applies a live event to an orchestrator row already on screen, so its
// badge changes at once without waiting for a refetch.
import type { Orchestrator, OrchestratorStatus } from '../api/types';
import type { LiveEvent } from './eventStream';

const STATUSES = new Set(['active', 'inactive', 'independent']);

export function patchOrchestrator(o: Orchestrator, e: LiveEvent): Orchestrator {
  if (e.orchestrator_id !== o.orchestrator_id) return o;
  const when = e.time ?? undefined;
  switch (e.kind) {
    case 'status_changed': {
      const next = e.new_value ?? '';
      if (!STATUSES.has(next)) return o;
      if (next === 'independent') return { ...o, status: 'independent', is_independent: true };
      // A heartbeat status change does not end independence, which overrides it in listings.
      if (o.is_independent) return o;
      return { ...o, status: next as OrchestratorStatus, last_seen: next === 'active' && when ? when : o.last_seen };
    }
    case 'independence_changed': {
      const on = e.new_value === 'true';
      if (on) return { ...o, is_independent: true, status: 'independent' };
      // Back under monitoring: the heartbeat status is unknown until the next refetch;
      // a connected orchestrator is about to be active again.
      return { ...o, is_independent: false, status: o.connected ? 'active' : 'inactive' };
    }
    case 'orchestrator_registered':
      return { ...o, connected: true };
    case 'orchestrator_disconnected':
      return { ...o, connected: false };
    default:
      return o;
  }
}

/** Fleet events that can change an orchestrator row. */
export function isFleetEvent(e: LiveEvent): boolean {
  return (
    e.kind === 'status_changed' ||
    e.kind === 'independence_changed' ||
    e.kind === 'orchestrator_registered' ||
    e.kind === 'orchestrator_disconnected'
  );
}
