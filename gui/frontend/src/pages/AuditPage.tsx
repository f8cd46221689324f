import { Link } from 'react-router-dom';
import type { AuditEntry } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Filters, PagedList, SearchField } from '../components/PagedList';
import { RelativeTime } from '../components/RelativeTime';
import { SortHeaders } from '../components/SortHeader';
import { Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { downloadCsv, toCsv } from '../lib/csv';
import { dateTime, isoDay } from '../lib/format';
import { fieldValue, inOrder } from '../lib/sort';
import { useUrlState, useUrlText } from '../lib/useUrlState';
import { TableWrap } from '../components/TableWrap';

const PAGE_SIZE = 50;
const AUDIT_SORTS = [
  { key: 'time', label: 'When' },
  { key: 'actor', label: 'Actor' },
  { key: 'action', label: 'Action' },
  { key: 'orchestrator_id', label: 'Orchestrator' },
];
const AUDIT_SORT_KEYS = AUDIT_SORTS.map((o) => o.key);

// The actions the controller audits today (host/rest/*.cpp audit(), message_delivery.cpp).
const ACTIONS = [
  'independence_toggled',
  'orchestrator_created',
  'orchestrator_registered',
  'orchestrator_deregistered',
  'credential_rotated',
  'organization_created',
  'organization_updated',
  'organization_deleted',
  'user_created',
  'user_updated',
  'user_deleted',
  'message_changed',
  'frame_sent',
];

export function AuditPage() {
  const api = useApi();
  const user = useUser();
  const { params, update, pager, listQuery, listDeps, sort, sortQuery, onSort } = useUrlState(PAGE_SIZE, AUDIT_SORT_KEYS);
  const action = params.get('action') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const [actorText, setActorText] = useUrlText('actor', params, update);
  const [orchText, setOrchText] = useUrlText('orchestrator_id', params, update);
  const [orgText, setOrgText] = useUrlText('organization_id', params, update);
  const actor = params.get('actor') ?? '';
  const orchestrator = params.get('orchestrator_id') ?? '';
  const organization = params.get('organization_id') ?? '';
  const setAction = (a: string) => update({ action: a });
  // The controller's range is [from, to): "to" a day means through that day.
  const toExclusive = to ? isoDay(new Date(Date.parse(`${to}T00:00:00Z`) + 86400_000)) : undefined;
  const badRange = Boolean(from && to && from > to);
  const filter = {
    action: action || undefined,
    actor: actor || undefined,
    orchestrator_id: orchestrator || undefined,
    organization_id: organization || undefined,
    from: from || undefined,
    to: toExclusive,
    ...sortQuery,
  };

  const list = useResource(
    () => (badRange ? Promise.reject(new Error('The start date is after the end date.')) : api.audit({ ...filter, ...listQuery })),
    [api, ...listDeps, action, actor, orchestrator, organization, from, to],
    { refreshOn: (e) => e.kind === 'independence_changed' || e.kind === 'orchestrator_registered' },
  );
  const exportCsv = async () => {
    const rows: AuditEntry[] = [];
    for (let p = 1; ; p++) {
      const d = await api.audit({ ...filter, page: p, page_size: 1000 });
      rows.push(...d.items);
      if (d.items.length === 0 || rows.length >= d.total) break;
    }
    downloadCsv(
      'audit.csv',
      toCsv(
        ['time', 'actor', 'action', 'organization_id', 'orchestrator_id', 'old_value', 'new_value'],
        rows.map((a) => [a.time, a.actor, a.action, a.organization_id, a.orchestrator_id, a.old_value, a.new_value]),
      ),
    );
  };

  return (
    <>
      <PageTitle
        actions={
          <button type="button" className="btn" onClick={() => void exportCsv()}>
            Export CSV
          </button>
        }
      >
        Audit log
      </PageTitle>
      <Filters label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select id="audit-action" value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">Any action</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
        <SearchField id="audit-actor" label="Actor" value={actorText} onChange={setActorText} />
        <SearchField id="audit-orch" label="Orchestrator id" value={orchText} onChange={setOrchText} />
        <div className="field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="date" value={from} onChange={(e) => update({ from: e.target.value })} aria-invalid={badRange || undefined} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To</label>
          <input id="audit-to" type="date" value={to} onChange={(e) => update({ to: e.target.value })} aria-invalid={badRange || undefined} />
        </div>
        {user.role === 'superadmin' && <SearchField id="audit-org" label="Organization id" value={orgText} onChange={setOrgText} />}
      </Filters>
      <Loaded {...list} what="Loading the audit log">
        {(d) => (
          <PagedList
            data={d}
            {...pager}
            sortOptions={AUDIT_SORTS}
            label="Audit pages"
            empty="No audit entries match."
          >
              <TableWrap label="Audit log table">
                <table className="cards">
                  <caption className="sr-only">Audit log{sort ? '' : ', newest first'}</caption>
                  <thead>
                    <tr>
                      <SortHeaders options={AUDIT_SORTS} sort={sort} onSort={onSort} />
                      <th scope="col">Change</th>
                    </tr>
                  </thead>
                  <tbody>
                    {inOrder(d, sort, fieldValue).map((a) => (
                      <tr key={a.id}>
                        <td title={dateTime(a.time)}>
                          <RelativeTime iso={a.time} />
                        </td>
                        <td>{a.actor}</td>
                        <td>{a.action.replace(/_/g, ' ')}</td>
                        <td>
                          {a.orchestrator_id ? (
                            <Link to={`/orchestrators/${encodeURIComponent(a.orchestrator_id)}`}>{a.orchestrator_id}</Link>
                          ) : (
                            '—'
                          )}
                          {a.organization_id && <div className="muted small">{a.organization_id}</div>}
                        </td>
                        <td>{a.old_value || a.new_value ? `${a.old_value ?? '—'} → ${a.new_value ?? '—'}` : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
          </PagedList>
        )}
      </Loaded>
    </>
  );
}
