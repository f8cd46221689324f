import { Link } from 'react-router-dom';
import type { Overview, StatusHistory } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { LineChart } from '../components/LineChart';
import { PageTitle } from '../components/Layout';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, Loaded } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import type { LiveEvent } from '../live/eventStream';
import { useLive } from '../live/live';
import { type Resource, useResource } from '../live/useResource';
import { count } from '../lib/format';
import { TableWrap } from '../components/TableWrap';

const FLEET_EVENTS = new Set(['status_changed', 'independence_changed', 'orchestrator_registered', 'orchestrator_disconnected']);
const isFleetEvent = (e: LiveEvent) => FLEET_EVENTS.has(e.kind);

const ORGS_SHOWN = 20;

function Counts({ o, pending }: { o: Overview; pending: number | undefined }) {
  const cards: [string, number | null | undefined, string][] = [
    ['Orchestrators', o.total_orchestrators, '/orchestrators'],
    ['active (heartbeat)', o.active_orchestrators, '/orchestrators?status=active'],
    ['inactive', o.inactive_orchestrators, '/orchestrators?status=inactive'],
    ['independent', o.independent_orchestrators, '/orchestrators?status=independent'],
    ['Organizations', o.total_organizations, '/organizations'],
    ['Users', o.total_users, ''],
    ['Pending messages', pending, '/messages'],
  ];
  return (
    <ul className="stat-grid" aria-label="Fleet counts">
      {cards.map(([label, value, to]) => (
        <li key={label} className="stat">
          <span className="stat-value" data-testid={`count-${label}`}>
            {value == null ? '—' : count(value)}
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
  const pending = useResource(() => api.allMessages({ status: 'pending', page_size: 1 }), [api], {
    refreshOn: (e) => e.kind === 'message_changed',
  });
  // Fetched once (and after a reconnect); what arrives later comes through the stream.
  const stored = useResource(() => api.recentEvents(50), [api]);
  const changes = changesFrom(recent, stored.data ?? []);
  // One history for both charts; its last point is "now", so polling it keeps them live.
  const history = useResource(() => api.statusHistory({ hours: 6 }), [api], { alwaysPoll: true });

  return (
    <>
      <PageTitle>Overview</PageTitle>
      <Loaded {...overview} what="Loading counts">
        {(o) => <Counts o={o} pending={pending.data?.total} />}
      </Loaded>

      <div className="grid-2">
        <StatusHistoryCard hist={history} />
        {user.role === 'superadmin' && <AckLatencyCard hist={history} />}
      </div>

      <div className="grid-2">
        <section className="card" aria-labelledby="per-org">
          <h2 id="per-org">{user.role === 'superadmin' ? 'By organization' : 'Your organization'}</h2>
          {/* The same in-memory counts as the totals above: one source of truth. */}
          <Loaded {...overview} what="Loading organizations">
            {(o) => {
              const all = o.by_organization ?? [];
              const rows = all.slice(0, ORGS_SHOWN);
              const total = all.length;
              return rows.length === 0 ? (
                <Empty>No organizations yet.</Empty>
              ) : (
                <TableWrap label="Counts by organization">
                  <table className="cards">
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
                          <td className="num" data-label="active">{count(r.active)}</td>
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
              );
            }}
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

type History = Resource<StatusHistory | null>;

const every = (sec: number) => (sec >= 60 ? `${sec / 60} min` : `${sec} s`);

/** Active / inactive / independent over the last hours, from the host's rolling history. */
function StatusHistoryCard({ hist }: { hist: History }) {
  return (
    <section className="card" aria-labelledby="status-history">
      <h2 id="status-history">Status, last 6 hours</h2>
      <Loaded {...hist} what="Loading history">
        {(h) =>
          !h || h.items.length === 0 ? (
            <Empty>This controller keeps no status history.</Empty>
          ) : (
            <>
              <LineChart
                integer
                title="Orchestrators by status"
                times={h.items.map((p) => Date.parse(p.time))}
                series={[
                  { name: 'active', className: 'series-active', values: h.items.map((p) => p.active) },
                  { name: 'inactive', className: 'series-inactive', values: h.items.map((p) => p.inactive) },
                  { name: 'independent', className: 'series-independent', values: h.items.map((p) => p.independent) },
                ]}
              />
              <p className="muted small">One sample every {every(h.interval_sec)}, kept in memory since the controller started.</p>
            </>
          )
        }
      </Loaded>
    </section>
  );
}

const latencyMs = (v: number) => (v >= 1 ? v.toFixed(1) : v.toFixed(3));

/** Heartbeat ack latency per sample interval over the last hours: the host
 *  keeps it with the status history, from its moolai_heartbeat_ack_seconds
 *  histogram, so the chart is full as soon as the page opens. */
export function AckLatencyCard({ hist }: { hist: History }) {
  return (
    <section className="card" aria-labelledby="ack-latency">
      <h2 id="ack-latency">Heartbeat ack latency</h2>
      <Loaded {...hist} what="Loading latency">
        {(h) => {
          const items = (h?.items ?? []).filter((p) => p.ack_ms !== undefined);
          // "Now" covers only the moments since the newest sample: nothing to draw when no ack came yet.
          if (items.length > 0 && items[items.length - 1]!.ack_ms == null) items.pop();
          if (!h || items.length === 0) return <p className="muted">This controller does not report heartbeat ack latency.</p>;
          const latest = [...items].reverse().find((p) => p.ack_ms != null);
          if (!latest) return <Empty>No heartbeat acknowledged in the last 6 hours.</Empty>;
          const p99 = items.some((p) => p.ack_p99_ms != null);
          return (
            <>
              <p data-testid="ack-latency-now">
                Latest: <strong>{latencyMs(latest.ack_ms!)} ms</strong>
                {latest.ack_p99_ms != null && <> (p99 {latencyMs(latest.ack_p99_ms)} ms)</>}
              </p>
              <LineChart
                title="Heartbeat ack latency, milliseconds"
                times={items.map((p) => Date.parse(p.time))}
                series={[
                  { name: 'mean', className: 'series-latency', values: items.map((p) => p.ack_ms ?? null) },
                  ...(p99 ? [{ name: 'p99', className: 'series-latency-p99', values: items.map((p) => p.ack_p99_ms ?? null) }] : []),
                ]}
                format={latencyMs}
              />
              <p className="muted small">
                Per sample interval ({every(h.interval_sec)}), from the controller&rsquo;s histogram; p99 is estimated from its buckets.
              </p>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
