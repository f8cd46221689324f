import type { OrchestratorStatus } from '../api/types';

// The seed's three badges, with its exact words; independence wins over the heartbeat status.
export function statusLabel(status: OrchestratorStatus | string, isIndependent?: boolean): string {
  if (isIndependent || status === 'independent') return 'independent';
  if (status === 'active') return 'active (heartbeat)';
  return 'inactive';
}

/** Each state its own colour and shape, so colour is never the only cue. */
function StatusIcon({ kind }: { kind: 'active' | 'inactive' | 'independent' }) {
  const common = { width: 10, height: 10, viewBox: '0 0 10 10', 'aria-hidden': true, focusable: false, className: 'badge-icon' } as const;
  if (kind === 'active')
    return (
      <svg {...common}>
        <circle cx="5" cy="5" r="4" fill="currentColor" />
      </svg>
    );
  if (kind === 'independent')
    return (
      <svg {...common}>
        <rect x="1.5" y="1" width="2.5" height="8" fill="currentColor" />
        <rect x="6" y="1" width="2.5" height="8" fill="currentColor" />
      </svg>
    );
  return (
    <svg {...common}>
      <circle cx="5" cy="5" r="3.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

export function StatusBadge({ status, isIndependent }: { status: OrchestratorStatus | string; isIndependent?: boolean }) {
  const label = statusLabel(status, isIndependent);
  const kind = label === 'independent' ? 'independent' : label === 'inactive' ? 'inactive' : 'active';
  return (
    <span className={`badge badge-${kind}`} data-status={label}>
      <StatusIcon kind={kind} />
      {label}
    </span>
  );
}

/** A controller host on the Cluster page: the orchestrators' active and inactive look, in its own words. */
export function HostBadge({ alive }: { alive: boolean }) {
  const kind = alive ? 'active' : 'inactive';
  const label = alive ? 'alive' : 'not alive';
  return (
    <span className={`badge badge-${kind}`} data-status={label}>
      <StatusIcon kind={kind} />
      {label}
    </span>
  );
}
