// The fleet table: the controller pages, filters and searches (50,000 rows
// never reach the browser); filters live in the URL so links and Back work.
import { useRef, useState } from 'react';
import type { Orchestrator } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { BulkIndependence } from '../components/BulkIndependence';
import { PageTitle } from '../components/Layout';
import { ORCHESTRATOR_SORT_KEYS, ORCHESTRATOR_SORTS, OrchestratorTable, orchestratorSortValue, orchestratorsCsv } from '../components/OrchestratorTable';
import { Filters, PagedList, SearchField } from '../components/PagedList';
import { OrganizationPicker } from '../components/Pickers';
import { Loaded } from '../components/States';
import { useLiveEvents } from '../live/live';
import { isFleetEvent, patchOrchestrator } from '../live/patch';
import { useFreshRows } from '../live/useFresh';
import { useResource } from '../live/useResource';
import { downloadCsv, toCsv } from '../lib/csv';
import { inOrder } from '../lib/sort';
import { useUrlState, useUrlText } from '../lib/useUrlState';

const PAGE_SIZE = 50;

/** Every orchestrator matching a filter, 1,000 a request (for CSV and bulk actions). */
export async function allOrchestrators(
  api: { orchestrators: (f: { page: number; page_size: number; status?: string; organization_id?: string; search?: string; sort?: string; order?: string }) => Promise<{ items: Orchestrator[]; total: number }> },
  f: { status?: string; organization_id?: string; search?: string; sort?: string; order?: string },
): Promise<Orchestrator[]> {
  const out: Orchestrator[] = [];
  for (let page = 1; ; page++) {
    const d = await api.orchestrators({ ...f, page, page_size: 1000 });
    out.push(...d.items);
    if (d.items.length === 0 || out.length >= d.total) return out;
  }
}

export function OrchestratorsPage() {
  const api = useApi();
  const user = useUser();
  const { params, update, pager, listQuery, listDeps, sort, sortQuery, onSort } = useUrlState(PAGE_SIZE, ORCHESTRATOR_SORT_KEYS);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const status = params.get('status') ?? '';
  const organization = params.get('organization_id') ?? '';
  const [searchText, setSearchText] = useUrlText('search', params, update);
  const search = params.get('search') ?? '';

  const onScreen = useRef(new Set<string>());
  const list = useResource(
    () =>
      api.orchestrators({
        ...listQuery,
        status: status || undefined,
        organization_id: organization || undefined,
        search: search || undefined,
      }),
    [api, ...listDeps, status, organization, search],
    // Rows on screen are patched at once (below) and refetched too, so a
    // fetch that was in flight during the event cannot leave them stale.
    // Events about other rows matter only when they can change the set.
    {
      refreshOn: (e) =>
        e.kind === 'orchestrator_registered' ||
        (isFleetEvent(e) && (status !== '' || onScreen.current.has(e.orchestrator_id ?? ''))),
    },
  );
  onScreen.current = new Set(list.data?.items.map((o) => o.orchestrator_id));

  useLiveEvents((e) => {
    if (!isFleetEvent(e)) return;
    list.setData((d) => (d ? { ...d, items: d.items.map((o) => patchOrchestrator(o, e)) } : d));
  });

  useFreshRows(list.data, list.setData);

  const filtered = status || organization || search;
  const exportCsv = async () => {
    const rows = await allOrchestrators(api, {
      status: status || undefined,
      organization_id: organization || undefined,
      search: search || undefined,
      ...sortQuery,
    });
    const [header, body] = orchestratorsCsv(rows);
    downloadCsv('orchestrators.csv', toCsv(header, body));
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
        Orchestrators
      </PageTitle>
      <Filters label="Filter orchestrators">
        <SearchField id="filter-search" placeholder="id or name" value={searchText} onChange={setSearchText} />
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(e) => update({ status: e.target.value })}>
            <option value="">Any status</option>
            <option value="active">active (heartbeat)</option>
            <option value="inactive">inactive</option>
            <option value="independent">independent</option>
          </select>
        </div>
        {user.role === 'superadmin' && <OrganizationPicker id="filter-org" value={organization} onChange={(v) => update({ organization_id: v })} />}
      </Filters>
      <Loaded {...list} what="Loading orchestrators">
        {(d) => (
          <PagedList
            data={d}
            {...pager}
            sortOptions={ORCHESTRATOR_SORTS}
            label="Orchestrator pages"
            empty={filtered ? 'No orchestrator matches these filters.' : 'No orchestrators yet. Create one from its organization’s page.'}
          >
            <BulkIndependence
              ids={[...selected].filter((id) => d.items.some((o) => o.orchestrator_id === id))}
              what={`${selected.size} selected`}
              label="the selected orchestrators"
              onDone={() => {
                setSelected(new Set());
                list.reload();
              }}
            />
            <OrchestratorTable
              rows={inOrder(d, sort, orchestratorSortValue)}
              caption="Orchestrators"
              sort={sort}
              onSort={onSort}
              selection={{ selected, onChange: setSelected }}
            />
          </PagedList>
        )}
      </Loaded>
    </>
  );
}
