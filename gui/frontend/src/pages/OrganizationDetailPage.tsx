import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useApi } from '../auth/session';
import { CreateOrchestrator } from '../components/CreateOrchestrator';
import { PageTitle } from '../components/Layout';
import { OrchestratorTable } from '../components/OrchestratorTable';
import { Pagination } from '../components/Pagination';
import { Empty, Loaded } from '../components/States';
import { useLiveEvents } from '../live/live';
import { isFleetEvent, patchOrchestrator } from '../live/patch';
import { useResource } from '../live/useResource';
import { count, dateTime } from '../lib/format';

const PAGE_SIZE = 25;

export function OrganizationDetailPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const [page, setPage] = useState(1);
  const org = useResource(() => api.organization(id), [api, id]);
  const inOrg = (e: { organization_id?: string | null }) => e.organization_id === id;
  const counts = useResource(
    async () => {
      const total = async (status: string) => (await api.orchestrators({ organization_id: id, status, page_size: 1 })).total;
      const [active, inactive, independent] = await Promise.all([total('active'), total('inactive'), total('independent')]);
      return { active, inactive, independent };
    },
    [api, id],
    { refreshOn: (e) => isFleetEvent(e) && inOrg(e) },
  );
  // Patched at once below; refetched as well so an in-flight fetch cannot leave rows stale.
  const list = useResource(() => api.orchestrators({ organization_id: id, page, page_size: PAGE_SIZE }), [api, id, page], {
    refreshOn: (e) => isFleetEvent(e) && inOrg(e),
  });
  useLiveEvents((e) => {
    if (isFleetEvent(e) && inOrg(e)) list.setData((d) => (d ? { ...d, items: d.items.map((o) => patchOrchestrator(o, e)) } : d));
  });

  return (
    <>
      <PageTitle>{org.data ? org.data.name : `Organization ${id}`}</PageTitle>
      <Loaded {...org} what="Loading organization">
        {(o) => (
          <div className="detail">
            <section className="card" aria-labelledby="org-meta">
              <h2 id="org-meta">Details</h2>
              <dl className="meta">
                <dt>Organization id</dt>
                <dd>
                  <code>{o.organization_id}</code>
                </dd>
                <dt>Location</dt>
                <dd>{o.location || '—'}</dd>
                <dt>Created</dt>
                <dd>{dateTime(o.created_at)}</dd>
                {counts.data && (
                  <>
                    <dt>Orchestrators</dt>
                    <dd data-testid="org-counts">
                      {count(counts.data.active)} active (heartbeat), {count(counts.data.inactive)} inactive, {count(counts.data.independent)} independent
                    </dd>
                  </>
                )}
              </dl>
              <p>
                <Link to={`/costs?organization_id=${encodeURIComponent(id)}`}>Costs of this organization</Link> ·{' '}
                <Link to={`/audit?organization_id=${encodeURIComponent(id)}`}>Audit log</Link>
              </p>
            </section>
            <CreateOrchestrator organizationId={id} onCreated={list.reload} />
            <section className="card" aria-labelledby="org-orchs">
              <h2 id="org-orchs">Orchestrators</h2>
              <Loaded {...list} what="Loading orchestrators">
                {(d) =>
                  d.items.length === 0 ? (
                    <Empty>This organization has no orchestrators yet.</Empty>
                  ) : (
                    <>
                      <OrchestratorTable rows={d.items} showOrganization={false} caption={`Orchestrators of ${o.name}`} />
                      <Pagination page={page} pageSize={PAGE_SIZE} total={d.total} label="Orchestrator pages" onPage={setPage} />
                    </>
                  )
                }
              </Loaded>
            </section>
          </div>
        )}
      </Loaded>
    </>
  );
}
