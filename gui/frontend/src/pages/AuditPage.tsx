import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Pagination } from '../components/Pagination';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { dateTime } from '../lib/format';
import { useDebounced } from '../lib/useDebounced';
import { TableWrap } from '../components/TableWrap';

const PAGE_SIZE = 50;
// The actions the controller audits today.
const ACTIONS = [
  'independence_toggled',
  'orchestrator_created',
  'orchestrator_registered',
  'orchestrator_deregistered',
  'credential_rotated',
  'organization_created',
  'organization_deleted',
  'user_created',
  'user_deleted',
];

export function AuditPage() {
  const api = useApi();
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const action = params.get('action') ?? '';
  const [actorText, setActorText] = useState(params.get('actor') ?? '');
  const [orchText, setOrchText] = useState(params.get('orchestrator_id') ?? '');
  const [orgText, setOrgText] = useState(params.get('organization_id') ?? '');
  const actor = useDebounced(actorText.trim(), 300);
  const orchestrator = useDebounced(orchText.trim(), 300);
  const organization = useDebounced(orgText.trim(), 300);

  const setPage = (p: number) => {
    const next = new URLSearchParams(params);
    if (p > 1) next.set('page', String(p));
    else next.delete('page');
    setParams(next, { replace: true });
  };
  const setAction = (a: string) => {
    const next = new URLSearchParams(params);
    if (a) next.set('action', a);
    else next.delete('action');
    next.delete('page');
    setParams(next, { replace: true });
  };

  const list = useResource(
    () =>
      api.audit({
        page,
        page_size: PAGE_SIZE,
        action: action || undefined,
        actor: actor || undefined,
        orchestrator_id: orchestrator || undefined,
        organization_id: organization || undefined,
      }),
    [api, page, action, actor, orchestrator, organization],
    { refreshOn: (e) => e.kind === 'independence_changed' || e.kind === 'orchestrator_registered' },
  );

  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
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
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input id="audit-actor" type="search" value={actorText} onChange={(e) => setActorText(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-orch">Orchestrator id</label>
          <input id="audit-orch" type="search" value={orchText} onChange={(e) => setOrchText(e.target.value)} />
        </div>
        {user.role === 'superadmin' && (
          <div className="field">
            <label htmlFor="audit-org">Organization id</label>
            <input id="audit-org" type="search" value={orgText} onChange={(e) => setOrgText(e.target.value)} />
          </div>
        )}
      </form>
      <Loaded {...list} what="Loading the audit log">
        {(d) =>
          d.items.length === 0 ? (
            <Empty>No audit entries match.</Empty>
          ) : (
            <>
              <TableWrap label="Audit log table">
                <table>
                  <caption className="sr-only">Audit log, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Actor</th>
                      <th scope="col">Action</th>
                      <th scope="col">Orchestrator</th>
                      <th scope="col">Change</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((a) => (
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
              <Pagination page={page} pageSize={PAGE_SIZE} total={d.total} label="Audit pages" onPage={setPage} />
            </>
          )
        }
      </Loaded>
    </>
  );
}
