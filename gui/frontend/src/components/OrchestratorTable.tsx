import { Link } from 'react-router-dom';
import type { Orchestrator } from '../api/types';
import type { SortState } from '../lib/sort';
import { RelativeTime } from './RelativeTime';
import { SortHeader } from './SortHeader';
import { statusLabel, StatusBadge } from './StatusBadge';
import { TableWrap } from './TableWrap';

export interface Selection {
  selected: Set<string>;
  onChange: (next: Set<string>) => void;
}

/** The columns the controller sorts orchestrators by (GET /controller/orchestrators?sort=). */
export const ORCHESTRATOR_SORTS = [
  { key: 'name', label: 'Orchestrator' },
  { key: 'organization_id', label: 'Organization' },
  { key: 'status', label: 'Status' },
  { key: 'last_seen', label: 'Last seen' },
];
export const ORCHESTRATOR_SORT_KEYS = ORCHESTRATOR_SORTS.map((o) => o.key);

/** A row's value of a sort key, for sorting one page here when the controller cannot. */
export function orchestratorSortValue(o: Orchestrator, key: string): string | number | null {
  switch (key) {
    case 'name':
      return (o.name || o.orchestrator_id).toLowerCase();
    case 'organization_id':
      return o.organization_id.toLowerCase();
    case 'status':
      return statusLabel(o.status, o.is_independent);
    case 'last_seen':
      return o.last_seen ? Date.parse(o.last_seen) : null;
    default:
      return null;
  }
}

export function OrchestratorTable({
  rows,
  showOrganization = true,
  caption,
  sort = null,
  onSort,
  selection,
}: {
  rows: Orchestrator[];
  showOrganization?: boolean;
  caption: string;
  sort?: SortState | null;
  onSort?: (key: string) => void;
  selection?: Selection;
}) {
  const allSelected = selection ? rows.length > 0 && rows.every((o) => selection.selected.has(o.orchestrator_id)) : false;
  const toggle = (id: string) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    selection.onChange(next);
  };
  return (
    <TableWrap label={caption}>
      <table className="orchestrators">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {selection && (
              <th scope="col" className="select-col">
                <input
                  type="checkbox"
                  aria-label="Select all orchestrators on this page"
                  checked={allSelected}
                  onChange={() => selection.onChange(allSelected ? new Set() : new Set(rows.map((o) => o.orchestrator_id)))}
                />
              </th>
            )}
            {ORCHESTRATOR_SORTS.filter((o) => showOrganization || o.key !== 'organization_id').map((o) => (
              <SortHeader key={o.key} label={o.label} sortKey={o.key} sort={sort} onSort={onSort} />
            ))}
            {/* Live state, not stored: the controller cannot sort by it. */}
            <th scope="col">Connection</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={o.orchestrator_id} data-orchestrator={o.orchestrator_id}>
              {selection && (
                <td data-label="Select" className="select-col">
                  <input
                    type="checkbox"
                    aria-label={`Select ${o.name || o.orchestrator_id}`}
                    checked={selection.selected.has(o.orchestrator_id)}
                    onChange={() => toggle(o.orchestrator_id)}
                  />
                </td>
              )}
              <td data-label="Orchestrator">
                <Link to={`/orchestrators/${encodeURIComponent(o.orchestrator_id)}`}>{o.name || o.orchestrator_id}</Link>
                {o.name && o.name !== o.orchestrator_id && <div className="muted small">{o.orchestrator_id}</div>}
              </td>
              {showOrganization && (
                <td data-label="Organization">
                  <Link to={`/organizations/${encodeURIComponent(o.organization_id)}`}>{o.organization_name || o.organization_id}</Link>
                </td>
              )}
              <td data-label="Status">
                <StatusBadge status={o.status} isIndependent={o.is_independent} />
              </td>
              <td data-label="Last seen">
                <RelativeTime iso={o.last_seen} />
              </td>
              <td data-label="Connection">{o.connected === undefined ? <span className="muted">—</span> : o.connected ? 'connected' : <span className="muted">offline</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function orchestratorsCsv(rows: Orchestrator[]): [string[], (string | number | boolean | null | undefined)[][]] {
  return [
    ['orchestrator_id', 'name', 'organization_id', 'status', 'is_independent', 'connected', 'last_seen'],
    rows.map((o) => [o.orchestrator_id, o.name, o.organization_id, o.status, o.is_independent, o.connected, o.last_seen]),
  ];
}
