// The messages inbox: recommendations and monitoring messages across the
// fleet (an org_admin's organization only), pending first by default, with
// Accept / Dismiss on each; filters and order live in the URL, and the
// controller sorts the whole inbox.
import type { Message } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { MessageRow } from '../components/Messages';
import { Filters, PagedList } from '../components/PagedList';
import { OrganizationPicker } from '../components/Pickers';
import { Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { fieldValue, inOrder } from '../lib/sort';
import { useUrlState } from '../lib/useUrlState';

const PAGE_SIZE = 25;
const MESSAGE_SORT_KEYS = ['created_at', 'orchestrator_id', 'message_type'] as const;
// The inbox is a list, not a table: its order is one picker.
const ORDERS: { value: string; label: string }[] = [
  { value: '', label: 'newest first' },
  { value: 'created_at:asc', label: 'oldest first' },
  { value: 'orchestrator_id:asc', label: 'by orchestrator' },
  { value: 'message_type:asc', label: 'by type' },
];


export function MessagesPage() {
  const api = useApi();
  const user = useUser();
  const { params, update, pager, listQuery, listDeps, sort } = useUrlState(PAGE_SIZE, MESSAGE_SORT_KEYS);
  // "all" is kept in the URL so a link can ask for every status.
  const status = params.get('status') ?? 'pending';
  const type = params.get('message_type') ?? '';
  const organization = params.get('organization_id') ?? '';
  const orderValue = sort ? `${sort.key}:${sort.dir}` : '';

  const list = useResource(
    () =>
      api.allMessages({
        status: status === 'all' ? undefined : status,
        message_type: type || undefined,
        organization_id: organization || undefined,
        ...listQuery,
      }),
    [api, status, type, organization, ...listDeps],
    { refreshOn: (e) => e.kind === 'message_changed' },
  );
  const replace = (m: Message) => {
    list.setData((d) => (d ? { ...d, items: d.items.map((x) => (x.id === m.id ? m : x)) } : d));
    list.reload();
  };

  return (
    <>
      <PageTitle>Messages</PageTitle>
      <Filters label="Filter messages">
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
        <div className="field">
          <label htmlFor="inbox-order">Order</label>
          <select
            id="inbox-order"
            value={ORDERS.some((o) => o.value === orderValue) ? orderValue : ''}
            onChange={(e) => {
              const [key = '', dir = ''] = e.target.value.split(':');
              update({ sort: key, order: dir });
            }}
          >
            {ORDERS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>
      </Filters>
      <Loaded {...list} what="Loading messages">
        {(d) => (
          <PagedList
            data={d}
            {...pager}
            label="Message pages"
            empty={status === 'pending' ? 'Nothing to review: no pending messages.' : 'No message matches these filters.'}
          >
            <ul className="messages inbox" aria-label="Messages">
              {inOrder(d, sort, fieldValue).map((m) => (
                <MessageRow key={m.id} m={m} onReviewed={replace} showOrchestrator />
              ))}
            </ul>
          </PagedList>
        )}
      </Loaded>
    </>
  );
}
