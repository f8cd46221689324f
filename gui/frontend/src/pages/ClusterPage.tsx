import { useEffect } from 'react';
import type { Cluster, ClusterHost } from '../api/types';
import { useApi } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, Loaded } from '../components/States';
import { HostBadge } from '../components/StatusBadge';
import { TableWrap } from '../components/TableWrap';
import { useResource } from '../live/useResource';
import { count } from '../lib/format';

export const CLUSTER_MS = 5000;
/** The refresh period (tests shorten it). */
export const clusterTiming = { ms: CLUSTER_MS };

/** A commit as `git log --oneline` shows it, keeping a suffix such as "-dirty". */
export function shortCommit(commit: string | undefined): string | undefined {
  if (!commit) return undefined;
  const m = /^([0-9a-f]{7})[0-9a-f]*(.*)$/i.exec(commit);
  return m ? `${m[1]}${m[2]}` : commit;
}

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

function Summary({ c }: { c: Cluster }) {
  const alive = c.hosts.filter((h) => h.alive).length;
  return (
    <section className="card" aria-labelledby="cluster-summary">
      <h2 id="cluster-summary">Summary</h2>
      <dl className="meta">
        <dt>Hosts</dt>
        <dd data-testid="cluster-hosts">
          {count(c.hosts.length)} ({count(alive)} alive)
        </dd>
        <dt>Leader</dt>
        <dd data-testid="cluster-leader">{c.leader ? <code>{c.leader}</code> : <span className="muted">none right now</span>}</dd>
        <dt>This host</dt>
        <dd data-testid="cluster-this-host">
          <code>{c.host_id ?? '—'}</code> — {c.this_host_leads ? 'leads the cluster' : 'does not lead'}
        </dd>
        <dt>Lease</dt>
        <dd data-testid="cluster-lease">{c.lease_sec == null ? '—' : `${count(c.lease_sec)} s`}</dd>
      </dl>
      <p className="muted small">
        This host is the one that answered: the cluster as it sees it, refreshed every {clusterTiming.ms / 1000} s. The leader decides the status
        of orchestrators no live host holds.
      </p>
    </section>
  );
}

function HostRow({ h, leader }: { h: ClusterHost; leader: string | null }) {
  const version = text(h.info?.version);
  const commit = text(h.info?.commit);
  const marks = [...(h.host_id === leader ? ['leader'] : []), ...(h.this_host ? ['this host'] : [])];
  return (
    <tr data-host={h.host_id}>
      <th scope="row">
        <div className="host-cell">
          <code>{h.host_id}</code>
          {marks.length > 0 && (
            <ul className="tags">
              {marks.map((m) => (
                <li key={m} className="tag">
                  {m}
                </li>
              ))}
            </ul>
          )}
        </div>
      </th>
      <td>
        <HostBadge alive={h.alive} />
      </td>
      <td>
        {/* One grid item in a card: the label's column, then the version with its commit. */}
        <span>
          {version ?? '—'}
          {commit && (
            <>
              {' '}
              <code className="muted" title={commit}>
                {shortCommit(commit)}
              </code>
            </>
          )}
        </span>
      </td>
      <td>
        <RelativeTime iso={h.lease_until} />
      </td>
      <td className="num">{count(h.connected)}</td>
    </tr>
  );
}

function Hosts({ c }: { c: Cluster }) {
  const hosts = [...c.hosts].sort((a, b) => a.host_id.localeCompare(b.host_id));
  const versions = [...new Set(hosts.map((h) => text(h.info?.version)).filter((v): v is string => !!v))];
  return (
    <section className="card" aria-labelledby="cluster-hosts-title">
      <h2 id="cluster-hosts-title">Hosts</h2>
      {versions.length > 1 && (
        <p className="notice" data-testid="cluster-versions">
          The hosts run different versions: {versions.join(', ')}.
        </p>
      )}
      {hosts.length === 0 ? (
        <Empty>No host holds a lease yet.</Empty>
      ) : (
        <TableWrap label="Hosts table">
          <table className="cards">
            <caption className="sr-only">Controller hosts with a live lease</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">Lease ends</th>
                <th scope="col" className="num">
                  Orchestrators
                </th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => (
                <HostRow key={h.host_id} h={h} leader={c.leader} />
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

// The controller hosts sharing this store, as the answering host sees them.
// No event announces a lease, so the page asks again every 5 s.
export function ClusterPage() {
  const api = useApi();
  const cluster = useResource(() => api.cluster(), [api]);
  const reload = cluster.reload;
  useEffect(() => {
    const t = setInterval(() => {
      if (!document.hidden) reload(); // a background tab asks again when shown
    }, clusterTiming.ms);
    return () => clearInterval(t);
  }, [reload]);
  return (
    <>
      <PageTitle
        actions={
          <button type="button" className="btn" onClick={reload}>
            Refresh
          </button>
        }
      >
        Cluster
      </PageTitle>
      <Loaded {...cluster} what="Loading the cluster">
        {(c) =>
          c.enabled ? (
            <>
              <Summary c={c} />
              <Hosts c={c} />
            </>
          ) : (
            <Empty>
              Clustering is off on this host (<code>MOOLAI_CLUSTER=off</code>): it serves alone, holds no lease and sees no other hosts.
            </Empty>
          )
        }
      </Loaded>
    </>
  );
}
