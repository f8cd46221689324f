// The fleet table: the controller pages, filters and searches (50,000 rows
// never reach the browser); filters live in the URL so links and Back work.
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Orchestrator } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { BulkIndependence } from '../components/BulkIndependence';
import { PageTitle } from '../components/Layout';
import { OrchestratorTable, orchestratorsCsv } from '../components/OrchestratorTable';
import { Pagination, PastLastPage } from '../components/Pagination';
import { Empty, Loaded } from '../components/States';
import { useLiveEvents } from '../live/live';
import { isFleetEvent, patchOrchestrator } from '../live/patch';
import { useFreshRows } from '../live/useFresh';
import { useResource } from '../live/useResource';
import { downloadCsv, toCsv } from '../lib/csv';
import { nextSort, parseSort, sortParam } from '../lib/sort';
import { useDebounced } from '../lib/useDebounced';

const PAGE_SIZE = 50;

/** Every orchestrator matching a filter, 1,000 a request (for CSV and bulk actions). */
export async function allOrchestrators(
  api: { orchestrators: (f: { page: number; page_size: number; status?: string; organization_id?: string; search?: string }) => Promise<{ items: Orchestrator[]; total: number }> },
  f: { status?: string; organization_id?: string; search?: string },
): Promise<Orchestrator[]> {
  const out: Orchestrator[] = [];
  for (let page = 1; ; page++) {
    const d = await api.orchestrators({ ...f, page, page_size: 1000 });
    out.push(...d.items);
    if (d.items.length === 0 || out.length >= d.total) return out;
  }
}

function OrganizationFilter({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const api = useApi();
  const orgs = useResource(() => api.organizations({ page_size: 1000 }), [api]);
  return (
    <div className="field">
      <label htmlFor="filter-org">Organization</label>
      <select id="filter-org" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All organizations</option>
        {orgs.data?.items.map((o) => (
          <option key={o.organization_id} value={o.organization_id}>
            {o.name} ({o.organization_id})
          </option>
        ))}
      </select>
    </div>
  );
}

export function OrchestratorsPage() {
  const api = useApi();
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = Math.min(1000, Math.max(1, Number(params.get('page_size')) || PAGE_SIZE));
  const sort = parseSort(params.get('sort'));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const status = params.get('status') ?? '';
  const organization = params.get('organization_id') ?? '';
  const [searchText, setSearchText] = useState(params.get('search') ?? '');
  const search = useDebounced(searchText.trim(), 300);

  const update = (changes: Record<string, string>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (resetPage) next.delete('page');
    setParams(next, { replace: true });
  };

  useEffect(() => {
    if (search !== (params.get('search') ?? '')) update({ search });
  }, [search]);

  const onScreen = useRef(new Set<string>());
  const list = useResource(
    () =>
      api.orchestrators({
        page,
        page_size: pageSize,
        status: status || undefined,
        organization_id: organization || undefined,
        search: params.get('search') || undefined,
      }),
    [api, page, pageSize, status, organization, params.get('search')],
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

  const filtered = status || organization || params.get('search');
  const exportCsv = async () => {
    const rows = await allOrchestrators(api, {
      status: status || undefined,
      organization_id: organization || undefined,
      search: params.get('search') || undefined,
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
      <form className="filters" role="search" aria-label="Filter orchestrators" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-search">Search</label>
          <input
            id="filter-search"
            type="search"
            placeholder="id or name"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(e) => update({ status: e.target.value })}>
            <option value="">Any status</option>
            <option value="active">active (heartbeat)</option>
            <option value="inactive">inactive</option>
            <option value="independent">independent</option>
          </select>
        </div>
        {user.role === 'superadmin' && <OrganizationFilter value={organization} onChange={(v) => update({ organization_id: v })} />}
      </form>
      <Loaded {...list} what="Loading orchestrators">
        {(d) =>
          d.items.length === 0 && d.total > 0 ? (
            <PastLastPage page={page} total={d.total} pageSize={pageSize} onFirst={() => update({ page: '' }, false)} />
          ) : d.items.length === 0 ? (
            <Empty>{filtered ? 'No orchestrator matches these filters.' : 'No orchestrators yet. Create one from its organization’s page.'}</Empty>
          ) : (
            <>
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
                rows={d.items}
                caption="Orchestrators"
                sort={sort}
                onSort={(k) => update({ sort: sortParam(nextSort(sort, k)) }, false)}
                selection={{ selected, onChange: setSelected }}
              />
              <Pagination
                page={page}
                pageSize={pageSize}
                total={d.total}
                label="Orchestrator pages"
                onPage={(p) => update({ page: p > 1 ? String(p) : '' }, false)}
                onPageSize={(n) => update({ page_size: n === PAGE_SIZE ? '' : String(n) })}
              />
            </>
          )
        }
      </Loaded>
    </>
  );
}
