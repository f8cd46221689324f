// The messages inbox: recommendations and monitoring messages across the
// fleet (an org_admin's organization only), pending first by default, with
// Accept / Dismiss on each; filters live in the URL.
import { useSearchParams } from 'react-router-dom';
import type { Message } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { MessageRow } from '../components/Messages';
import { OrganizationPicker } from '../components/Pickers';
import { Pagination, PastLastPage } from '../components/Pagination';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';

const PAGE_SIZE = 25;

export function MessagesPage() {
  const api = useApi();
  const user = useUser();
  const [params, setParams] = useSearchParams();
  // "all" is kept in the URL so a link can ask for every status.
  const status = params.get('status') ?? 'pending';
  const type = params.get('message_type') ?? '';
  const organization = params.get('organization_id') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = Math.min(1000, Math.max(1, Number(params.get('page_size')) || PAGE_SIZE));
  const update = (changes: Record<string, string>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (resetPage) next.delete('page');
    setParams(next, { replace: true });
  };

  const list = useResource(
    () =>
      api.allMessages({
        status: status === 'all' ? undefined : status,
        message_type: type || undefined,
        organization_id: organization || undefined,
        page,
        page_size: pageSize,
      }),
    [api, status, type, organization, page, pageSize],
    { refreshOn: (e) => e.kind === 'message_changed' },
  );
  const replace = (m: Message) => {
    list.setData((d) => (d ? { ...d, items: d.items.map((x) => (x.id === m.id ? m : x)) } : d));
    list.reload();
  };

  return (
    <>
      <PageTitle>Messages</PageTitle>
      <form className="filters" role="search" aria-label="Filter messages" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="inbox-status">Review</label>
          <select id="inbox-status" value={status} onChange={(e) => update({ status: e.target.value === 'pending' ? '' : e.target.value })}>
            <option value="pending">pending</option>
            <option value="accepted">accepted</option>
            <option value="dismissed">dismissed</option>
            <option value="all">all</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="inbox-type">Type</label>
          <select id="inbox-type" value={type} onChange={(e) => update({ message_type: e.target.value })}>
            <option value="">any type</option>
            <option value="recommendation">recommendation</option>
            <option value="monitoring">monitoring</option>
          </select>
        </div>
        {user.role === 'superadmin' && (
          <OrganizationPicker id="inbox-org" value={organization} onChange={(v) => update({ organization_id: v })} />
        )}
      </form>
      <Loaded {...list} what="Loading messages">
        {(d) =>
          d.items.length === 0 && d.total > 0 ? (
            <PastLastPage page={page} total={d.total} pageSize={pageSize} onFirst={() => update({ page: '' }, false)} />
          ) : d.items.length === 0 ? (
            <Empty>{status === 'pending' ? 'Nothing to review: no pending messages.' : 'No message matches these filters.'}</Empty>
          ) : (
            <>
              <ul className="messages inbox" aria-label="Messages">
                {d.items.map((m) => (
                  <MessageRow key={m.id} m={m} onReviewed={replace} showOrchestrator />
                ))}
              </ul>
              <Pagination
                page={page}
                pageSize={pageSize}
                total={d.total}
                label="Message pages"
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
