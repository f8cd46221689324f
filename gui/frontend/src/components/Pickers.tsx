// Pickers for an organization or an orchestrator, filled from the controller.
import { useApi } from '../auth/session';
import { useResource } from '../live/useResource';

/** `emptyLabel`: the first choice, "" (all organizations for a filter; "Choose…" for a form). */
export function OrganizationPicker({
  id,
  value,
  onChange,
  label = 'Organization',
  emptyLabel = 'All organizations',
  required,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  label?: string;
  emptyLabel?: string;
  required?: boolean;
}) {
  const api = useApi();
  const orgs = useResource(() => api.organizations({ page_size: 1000 }), [api]);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} required={required}>
        <option value="">{emptyLabel}</option>
        {orgs.data?.items.map((o) => (
          <option key={o.organization_id} value={o.organization_id}>
            {o.name} ({o.organization_id})
          </option>
        ))}
        {value && orgs.data && !orgs.data.items.some((o) => o.organization_id === value) && <option value={value}>{value}</option>}
      </select>
    </div>
  );
}

/** The orchestrators of one organization (or all), up to 1,000. */
export function OrchestratorPicker({ id, value, organizationId, onChange }: { id: string; value: string; organizationId?: string; onChange: (v: string) => void }) {
  const api = useApi();
  const list = useResource(() => api.orchestrators({ organization_id: organizationId || undefined, page_size: 1000 }), [api, organizationId]);
  return (
    <div className="field">
      <label htmlFor={id}>Orchestrator</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All orchestrators</option>
        {list.data?.items.map((o) => (
          <option key={o.orchestrator_id} value={o.orchestrator_id}>
            {o.name && o.name !== o.orchestrator_id ? `${o.name} (${o.orchestrator_id})` : o.orchestrator_id}
          </option>
        ))}
        {value && list.data && !list.data.items.some((o) => o.orchestrator_id === value) && <option value={value}>{value}</option>}
      </select>
    </div>
  );
}
