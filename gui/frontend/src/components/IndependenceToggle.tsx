// The independence switch: asks for confirmation, then PUTs the flag; shows
// who changed it last and when, from the audit log.
import { useState } from 'react';
import type { Orchestrator } from '../api/types';
import { useApi } from '../auth/session';
import { useResource } from '../live/useResource';
import { ConfirmDialog } from './Dialog';
import { RelativeTime } from './RelativeTime';
import { ErrorBox } from './States';

export function IndependenceToggle({ orchestrator, onChanged }: { orchestrator: Orchestrator; onChanged: (isIndependent: boolean) => void }) {
  const api = useApi();
  const id = orchestrator.orchestrator_id;
  const on = orchestrator.is_independent;
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const last = useResource(() => api.audit({ orchestrator_id: id, action: 'independence_toggled', page_size: 1 }), [api, id, on], {
    refreshOn: (e) => e.kind === 'independence_changed' && e.orchestrator_id === id,
  });
  const lastChange = last.data?.items[0];

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.setIndependence(id, !on);
      onChanged(r.is_independent);
      setAsking(false);
    } catch (e) {
      setError(e);
      setAsking(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="independence-title">
      <h2 id="independence-title">Independence mode</h2>
      <div className="toggle-row">
        <button
          type="button"
          role="switch"
          aria-checked={on}
          aria-labelledby="independence-label"
          className={on ? 'switch switch-on' : 'switch'}
          onClick={() => setAsking(true)}
        >
          <span className="switch-knob" aria-hidden="true" />
        </button>
        <span id="independence-label">Operate independently</span>
      </div>
      <p className="muted small" data-testid="independence-last-change">
        {lastChange ? (
          <>
            Last changed by <strong>{lastChange.actor}</strong> <RelativeTime iso={lastChange.time} /> ({lastChange.old_value === 'true' ? 'on' : 'off'} →{' '}
            {lastChange.new_value === 'true' ? 'on' : 'off'})
          </>
        ) : last.loading ? (
          'Loading history…'
        ) : (
          'Never changed.'
        )}
      </p>
      {error ? <ErrorBox error={error} /> : null}
      {asking && (
        <ConfirmDialog
          title={on ? 'Resume monitoring?' : 'Make this orchestrator independent?'}
          confirmLabel={on ? 'Resume monitoring' : 'Make independent'}
          danger={!on}
          busy={busy}
          onCancel={() => setAsking(false)}
          onConfirm={() => void confirm()}
        >
          {on ? (
            <p>
              <strong>{id}</strong> will be monitored again: its heartbeats are processed and held recommendations are delivered.
            </p>
          ) : (
            <p>
              <strong>{id}</strong> will be told to stop monitoring at once. Its heartbeats are no longer processed and its messages are held
              and hidden until you turn this off.
            </p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}
