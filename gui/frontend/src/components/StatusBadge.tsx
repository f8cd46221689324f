import type { OrchestratorStatus } from '../api/types';

// The seed's three badges, with its exact words; independence wins over the heartbeat status.
export function statusLabel(status: OrchestratorStatus | string, isIndependent?: boolean): string {
  if (isIndependent || status === 'independent') return 'independent';
  if (status === 'active') return 'active (heartbeat)';
  return 'inactive';
}

export function StatusBadge({ status, isIndependent }: { status: OrchestratorStatus | string; isIndependent?: boolean }) {
  const label = statusLabel(status, isIndependent);
  const variant = label === 'independent' ? 'destructive' : label === 'inactive' ? 'secondary' : 'default';
  return (
    <span className={`badge badge-${variant}`} data-status={label}>
      {label}
    </span>
  );
}
