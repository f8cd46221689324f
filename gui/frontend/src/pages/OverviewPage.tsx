import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import type { Overview } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { LineChart } from '../components/LineChart';
import { PageTitle } from '../components/Layout';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, Loaded } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import type { LiveEvent } from '../live/eventStream';
import { useLive } from '../live/live';
import { useResource } from '../live/useResource';
import { count } from '../lib/format';
import { HistogramTotals, histogramTotals, meanBetween } from '../lib/metrics';
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

  return (
    <>
      <PageTitle>Overview</PageTitle>
      <Loaded {...overview} what="Loading counts">
        {(o) => <Counts o={o} pending={pending.data?.total} />}
      </Loaded>

      <div className="grid-2">
        <StatusHistoryCard />
        {user.role === 'superadmin' && <AckLatencyCard />}
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

/** Active / inactive / independent over the last hours, from the host's rolling history. */
function StatusHistoryCard() {
  const api = useApi();
  const hist = useResource(() => api.statusHistory({ hours: 6 }), [api], { alwaysPoll: true });
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
              <p className="muted small">One sample every {h.interval_sec >= 60 ? `${h.interval_sec / 60} min` : `${h.interval_sec} s`}, kept in memory since the controller started.</p>
            </>
          )
        }
      </Loaded>
    </section>
  );
}

const LATENCY_MS = 10000;
const LATENCY_POINTS = 60;

/** Mean heartbeat ack latency per 10 s, from the controller's own histogram on /metrics. */
export function AckLatencyCard({ periodMs = LATENCY_MS }: { periodMs?: number }) {
  const api = useApi();
  const last = useRef<HistogramTotals | null>(null);
  const [points, setPoints] = useState<{ t: number; ms: number | null }[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    const read = async () => {
      try {
        const h = histogramTotals(await api.metricsText(), 'moolai_heartbeat_ack_seconds');
        if (cancelled) return;
        if (!h) {
          setError('This controller does not report heartbeat ack latency.');
          return;
        }
        setError(null);
        if (last.current) {
          const mean = meanBetween(last.current, h);
          setPoints((p) => [...p, { t: Date.now(), ms: mean == null ? null : mean * 1000 }].slice(-LATENCY_POINTS));
        }
        last.current = h;
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void read();
    const t = setInterval(() => void read(), periodMs);
    return () => {
      cancelled = true;
      clearInterval(t);
    };
  }, [api, periodMs]);
  const latest = [...points].reverse().find((p) => p.ms != null);
  return (
    <section className="card" aria-labelledby="ack-latency">
      <h2 id="ack-latency">Heartbeat ack latency</h2>
      {error ? (
        <p className="muted">{error}</p>
      ) : points.length < 2 ? (
        <p className="muted" data-testid="ack-latency-now">
          {latest ? `${latest.ms!.toFixed(3)} ms` : 'Measuring…'} (mean per {periodMs / 1000} s, from /metrics)
        </p>
      ) : (
        <>
          <p data-testid="ack-latency-now">
            Now: <strong>{latest ? `${latest.ms!.toFixed(3)} ms` : 'no heartbeats'}</strong> <span className="muted">(mean per {periodMs / 1000} s)</span>
          </p>
          <LineChart
            title="Mean heartbeat ack latency, milliseconds"
            times={points.map((p) => p.t)}
            series={[{ name: 'ack latency (ms)', className: 'series-latency', values: points.map((p) => p.ms) }]}
            format={(v) => (v >= 1 ? v.toFixed(1) : v.toFixed(3))}
          />
        </>
      )}
    </section>
  );
}
