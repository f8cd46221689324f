import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { Orchestrator } from '../api/types';
import { useApi } from '../auth/session';
import { CredentialDialog } from '../components/CreateOrchestrator';
import { ConfirmDialog } from '../components/Dialog';
import { IndependenceToggle } from '../components/IndependenceToggle';
import { PageTitle } from '../components/Layout';
import { Messages } from '../components/Messages';
import { RelativeTime } from '../components/RelativeTime';
import { Empty, ErrorBox, Loaded } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useLiveEvents } from '../live/live';
import { isFleetEvent, patchOrchestrator } from '../live/patch';
import { useFreshOne } from '../live/useFresh';
import { useResource } from '../live/useResource';
import { dateTime } from '../lib/format';

function Metadata({ o }: { o: Orchestrator }) {
  const extra = o.metadata && typeof o.metadata === 'object' ? Object.entries(o.metadata) : [];
  return (
    <section className="card" aria-labelledby="meta-title">
      <h2 id="meta-title">Details</h2>
      <dl className="meta">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={o.status} isIndependent={o.is_independent} />
        </dd>
        <dt>Orchestrator id</dt>
        <dd>
          <code>{o.orchestrator_id}</code>
        </dd>
        <dt>Organization</dt>
        <dd>
          <Link to={`/organizations/${encodeURIComponent(o.organization_id)}`}>{o.organization_name || o.organization_id}</Link>
        </dd>
        <dt>Last seen</dt>
        <dd>
          <RelativeTime iso={o.last_seen} />
        </dd>
        <dt>Connection</dt>
        <dd>{o.connected ? 'connected' : 'offline'}</dd>
        {o.location && (
          <>
            <dt>Location</dt>
            <dd>{o.location}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{dateTime(o.created_at)}</dd>
        {extra.map(([k, v]) => (
          <div key={k} className="meta-pair">
            <dt>{k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

// A new credential: the old one stops working and its connection is closed.
function RotateCredential({ id }: { id: string }) {
  const api = useApi();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [token, setToken] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      setToken((await api.rotateCredential(id)).token);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <>
      <button type="button" className="btn" onClick={() => setAsking(true)}>
        Rotate credential
      </button>
      {error ? <ErrorBox error={error} /> : null}
      {asking && (
        <ConfirmDialog title="Issue a new credential?" confirmLabel="Rotate credential" danger busy={busy} onCancel={() => setAsking(false)} onConfirm={() => void go()}>
          <p>
            The current credential of <strong>{id}</strong> stops working at once and its connection is closed. It reconnects only with the new one.
          </p>
        </ConfirmDialog>
      )}
      {token && <CredentialDialog orchestratorId={id} token={token} onClose={() => setToken(null)} />}
    </>
  );
}

function Deregister({ id }: { id: string }) {
  const api = useApi();
  const navigate = useNavigate();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const go = async () => {
    setBusy(true);
    try {
      await api.deregisterOrchestrator(id);
      navigate('/orchestrators', { replace: true });
    } catch (e) {
      setError(e);
      setAsking(false);
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setAsking(true)}>
        Deregister
      </button>
      {error ? <ErrorBox error={error} /> : null}
      {asking && (
        <ConfirmDialog title="Deregister this orchestrator?" confirmLabel="Deregister" danger busy={busy} onCancel={() => setAsking(false)} onConfirm={() => void go()}>
          <p>
            <strong>{id}</strong> and its messages are removed, and its connection is closed. It needs a new credential to come back.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

export function OrchestratorDetailPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const res = useResource(() => api.orchestrator(id), [api, id], {
    refreshOn: (e) => isFleetEvent(e) && e.orchestrator_id === id,
  });
  useLiveEvents((e) => {
    if (isFleetEvent(e) && e.orchestrator_id === id) res.setData((o) => (o ? patchOrchestrator(o, e) : o));
  });
  useFreshOne(res.data, res.setData);

  return (
    <>
      <PageTitle
        actions={
          res.data ? (
            <>
              <RotateCredential id={id} />
              <Deregister id={id} />
            </>
          ) : undefined
        }
      >{`Orchestrator ${id}`}</PageTitle>
      <Loaded {...res} what="Loading orchestrator">
        {(o) =>
          o === null ? (
            <Empty>
              No orchestrator “{id}” here. <Link to="/orchestrators">Back to the list</Link>.
            </Empty>
          ) : (
            <div className="detail">
              <Metadata o={o} />
              <IndependenceToggle
                orchestrator={o}
                onChanged={(on) => {
                  res.setData((cur) => (cur ? { ...cur, is_independent: on, status: on ? 'independent' : cur.connected ? 'active' : 'inactive' } : cur));
                  res.reload(); // the heartbeat status after resuming comes from the controller
                }}
              />
              {o.is_independent ? (
                <section className="card independent-note" aria-label="Messages">
                  <p>
                    <strong>This orchestrator operates independently</strong>
                  </p>
                  <p className="muted">Its recommendation and monitoring messages are hidden and held until monitoring resumes.</p>
                </section>
              ) : (
                <Messages orchestratorId={o.orchestrator_id} />
              )}
            </div>
          )
        }
      </Loaded>
    </>
  );
}
