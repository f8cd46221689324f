import { Link } from 'react-router-dom';
import type { Organization, Overview } from '../api/types';
import { Api } from '../api/endpoints';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, Loaded } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import type { LiveEvent } from '../live/eventStream';
import { useLive } from '../live/live';
import { useResource } from '../live/useResource';
import { count } from '../lib/format';
import { TableWrap } from '../components/TableWrap';

const FLEET_EVENTS = new Set(['status_changed', 'independence_changed', 'orchestrator_registered', 'orchestrator_disconnected']);
const isFleetEvent = (e: LiveEvent) => FLEET_EVENTS.has(e.kind);

interface OrgCounts {
  organization_id: string;
  name: string;
  active: number;
  inactive: number;
  independent: number;
}

/** Counts per organization. The controller's overview has totals only, so
 *  this asks the listing for each status's total (page_size=1): three small
 *  requests per organization shown, for the first page of organizations. */
async function organizationCounts(api: Api, orgs: Organization[]): Promise<OrgCounts[]> {
  const total = async (organization_id: string, status: string) =>
    (await api.orchestrators({ organization_id, status, page_size: 1 })).total;
  return Promise.all(
    orgs.map(async (o) => {
      const [active, inactive, independent] = await Promise.all([
        total(o.organization_id, 'active'),
        total(o.organization_id, 'inactive'),
        total(o.organization_id, 'independent'),
      ]);
      return { organization_id: o.organization_id, name: o.name, active, inactive, independent };
    }),
  );
}

const ORGS_SHOWN = 20;

function Counts({ o }: { o: Overview }) {
  const cards: [string, number, string][] = [
    ['Orchestrators', o.total_orchestrators, '/orchestrators'],
    ['active (heartbeat)', o.active_orchestrators, '/orchestrators?status=active'],
    ['inactive', o.inactive_orchestrators, '/orchestrators?status=inactive'],
    ['independent', o.independent_orchestrators, '/orchestrators?status=independent'],
    ['Organizations', o.total_organizations, '/organizations'],
    ['Users', o.total_users, ''],
  ];
  return (
    <ul className="stat-grid" aria-label="Fleet counts">
      {cards.map(([label, value, to]) => (
        <li key={label} className="stat">
          <span className="stat-value" data-testid={`count-${label}`}>
            {count(value)}
          </span>
          <span className="stat-label">{to ? <Link to={to}>{label}</Link> : label}</span>
        </li>
      ))}
    </ul>
  );
}

interface Change {
  key: string;
  time: string;
  orchestrator_id: string;
  text: string;
  status?: string;
}

function describeEvent(e: LiveEvent): string {
  switch (e.kind) {
    case 'status_changed':
      return `status ${e.old_value || '?'} → ${e.new_value || '?'}`;
    case 'independence_changed':
      return `${e.new_value === 'true' ? 'made independent' : 'monitoring resumed'}${e.actor ? ` by ${e.actor}` : ''}`;
    case 'orchestrator_registered':
      return 'connected and registered';
    case 'orchestrator_disconnected':
      return 'disconnected';
    default:
      return e.kind;
  }
}

const eventKey = (e: LiveEvent) => `${e.time ?? ''}|${e.kind}|${e.orchestrator_id ?? ''}|${e.new_value ?? ''}`;

/** The controller's recent events (they survive a reload) joined with those
 *  pushed since, newest first, without duplicates. */
function changesFrom(live: LiveEvent[], stored: LiveEvent[]): Change[] {
  const seen = new Set<string>();
  const all: LiveEvent[] = [];
  for (const e of [...live, ...stored]) {
    if (!isFleetEvent(e)) continue;
    const k = eventKey(e);
    if (seen.has(k)) continue;
    seen.add(k);
    all.push(e);
  }
  return all
    .map((e, i) => ({
      key: `${i}-${eventKey(e)}`,
      time: e.time ?? new Date().toISOString(),
      orchestrator_id: e.orchestrator_id ?? '',
      text: describeEvent(e),
      status:
        e.kind === 'status_changed' ? e.new_value ?? undefined : e.kind === 'independence_changed' && e.new_value === 'true' ? 'independent' : undefined,
    }))
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
    .slice(0, 15);
}

export function OverviewPage() {
  const api = useApi();
  const user = useUser();
  const { recent } = useLive();
  const overview = useResource(() => api.overview(), [api], { refreshOn: isFleetEvent });
  const perOrg = useResource(
    async () => {
      const orgs = await api.organizations({ page_size: ORGS_SHOWN });
      return { rows: await organizationCounts(api, orgs.items), total: orgs.total };
    },
    [api],
    { refreshOn: isFleetEvent },
  );
  // Fetched once (and after a reconnect); what arrives later comes through the stream.
  const stored = useResource(() => api.recentEvents(50), [api]);
  const changes = changesFrom(recent, stored.data ?? []);

  return (
    <>
      <PageTitle>Overview</PageTitle>
      <Loaded {...overview} what="Loading counts">
        {(o) => <Counts o={o} />}
      </Loaded>

      <div className="grid-2">
        <section className="card" aria-labelledby="per-org">
          <h2 id="per-org">{user.role === 'superadmin' ? 'By organization' : 'Your organization'}</h2>
          <Loaded {...perOrg} what="Loading organizations">
            {({ rows, total }) =>
              rows.length === 0 ? (
                <Empty>No organizations yet.</Empty>
              ) : (
                <TableWrap label="Counts by organization">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Organization</th>
                        <th scope="col" className="num">active</th>
                        <th scope="col" className="num">inactive</th>
                        <th scope="col" className="num">independent</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((r) => (
                        <tr key={r.organization_id}>
                          <td>
                            <Link to={`/organizations/${encodeURIComponent(r.organization_id)}`}>{r.name}</Link>
                          </td>
                          <td className="num">{count(r.active)}</td>
                          <td className="num">{count(r.inactive)}</td>
                          <td className="num">{count(r.independent)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  {total > rows.length && (
                    <p className="muted">
                      First {rows.length} of {count(total)} organizations — <Link to="/organizations">see all</Link>.
                    </p>
                  )}
                </TableWrap>
              )
            }
          </Loaded>
        </section>

        <section className="card" aria-labelledby="recent">
          <h2 id="recent">Recent status changes</h2>
          {changes.length === 0 ? (
            <Empty>No status changes recently.</Empty>
          ) : (
            <ol className="changes">
              {changes.map((c) => (
                <li key={c.key}>
                  <RelativeTime iso={c.time} />{' '}
                  <Link to={`/orchestrators/${encodeURIComponent(c.orchestrator_id)}`}>{c.orchestrator_id}</Link> {c.text}
                  {c.status && (
                    <>
                      {' '}
                      <StatusBadge status={c.status} />
                    </>
                  )}
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </>
  );
}
