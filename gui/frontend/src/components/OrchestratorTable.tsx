import { Link } from 'react-router-dom';
import type { Orchestrator } from '../api/types';
import { RelativeTime } from './RelativeTime';
import { StatusBadge } from './StatusBadge';
import { TableWrap } from './TableWrap';

export function OrchestratorTable({ rows, showOrganization = true, caption }: { rows: Orchestrator[]; showOrganization?: boolean; caption: string }) {
  return (
    <TableWrap label={caption}>
      <table className="orchestrators">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Orchestrator</th>
            {showOrganization && <th scope="col">Organization</th>}
            <th scope="col">Status</th>
            <th scope="col">Last seen</th>
            <th scope="col">Connection</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={o.orchestrator_id} data-orchestrator={o.orchestrator_id}>
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
