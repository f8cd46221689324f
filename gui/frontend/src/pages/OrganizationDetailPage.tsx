import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useApi, useUser } from '../auth/session';
import { BulkIndependence } from '../components/BulkIndependence';
import { CreateOrchestrator } from '../components/CreateOrchestrator';
import { PageTitle } from '../components/Layout';
import { ORCHESTRATOR_SORT_KEYS, ORCHESTRATOR_SORTS, OrchestratorTable, orchestratorSortValue } from '../components/OrchestratorTable';
import { PagedList } from '../components/PagedList';
import { Loaded } from '../components/States';
import { useLiveEvents } from '../live/live';
import { isFleetEvent, patchOrchestrator } from '../live/patch';
import { useFreshRows } from '../live/useFresh';
import { useResource } from '../live/useResource';
import { count, dateTime } from '../lib/format';
import { inOrder } from '../lib/sort';
import { useUrlState } from '../lib/useUrlState';
import { allOrchestrators } from './OrchestratorsPage';
import { OrganizationEdit } from '../components/OrganizationEdit';

const PAGE_SIZE = 25;

export function OrganizationDetailPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const user = useUser();
  const { pager, listQuery, listDeps, sort, onSort } = useUrlState(PAGE_SIZE, ORCHESTRATOR_SORT_KEYS);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const org = useResource(() => api.organization(id), [api, id]);
  const inOrg = (e: { organization_id?: string | null }) => e.organization_id === id;
  // The counts come from the controller's memory (the overview), the same
  // truth the rows below are refreshed from: the summary and the table agree.
  const counts = useResource(
    async () => {
      const o = await api.overview();
      const mine = o.by_organization?.find((c) => c.organization_id === id);
      return mine ?? { active: 0, inactive: 0, independent: 0 };
    },
    [api, id],
    { refreshOn: (e) => isFleetEvent(e) && inOrg(e) },
  );
  // Patched at once below; refetched as well so an in-flight fetch cannot leave rows stale.
  const list = useResource(
    () => api.orchestrators({ organization_id: id, ...listQuery }),
    [api, id, ...listDeps],
    {
      refreshOn: (e) => isFleetEvent(e) && inOrg(e),
    },
  );
  useLiveEvents((e) => {
    if (isFleetEvent(e) && inOrg(e)) list.setData((d) => (d ? { ...d, items: d.items.map((o) => patchOrchestrator(o, e)) } : d));
  });
  useFreshRows(list.data, list.setData, counts.reload);

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
            {user.role === 'superadmin' && <OrganizationEdit org={o} onSaved={(n) => org.setData(n)} />}
            <CreateOrchestrator organizationId={id} onCreated={list.reload} />
            <section className="card" aria-labelledby="org-orchs">
              <h2 id="org-orchs">Orchestrators</h2>
              <Loaded {...list} what="Loading orchestrators">
                {(d) => (
                  <PagedList
                    data={d}
                    {...pager}
                    sortOptions={ORCHESTRATOR_SORTS.filter((o) => o.key !== 'organization_id')}
                    label="Orchestrator pages"
                    empty="This organization has no orchestrators yet."
                  >
                    <BulkIndependence
                      ids={[]}
                      what={`every orchestrator of ${o.name}`}
                      idsFor={async () => (await allOrchestrators(api, { organization_id: id })).map((x) => x.orchestrator_id)}
                      onDone={() => {
                        list.reload();
                        counts.reload();
                      }}
                    />
                    <BulkIndependence
                      ids={[...selected].filter((sid) => d.items.some((x) => x.orchestrator_id === sid))}
                      what={`${selected.size} selected`}
                      label="the selected orchestrators"
                      onDone={() => {
                        setSelected(new Set());
                        list.reload();
                        counts.reload();
                      }}
                    />
                    <OrchestratorTable
                      rows={inOrder(d, sort, orchestratorSortValue)}
                      showOrganization={false}
                      caption={`Orchestrators of ${o.name}`}
                      sort={sort}
                      onSort={onSort}
                      selection={{ selected, onChange: setSelected }}
                    />
                  </PagedList>
                )}
              </Loaded>
            </section>
          </div>
        )}
      </Loaded>
    </>
  );
}
