// Creates an orchestrator and shows its credential -- the controller returns
// it this once and stores only its hash, so the dialog says so plainly.
import { useState } from 'react';
import { useSubmit } from '../lib/useSubmit';
import { FormActions } from './FormActions';
import type { CreatedOrchestrator } from '../api/types';
import { DEFAULT_UI_CONFIG } from '../api/endpoints';
import { useApi } from '../auth/session';
import { orchestratorUrl } from '../live/eventStream';
import { useLive } from '../live/live';
import { CopyButton } from './CopyButton';
import { Dialog } from './Dialog';

export function CreateOrchestrator({ organizationId, onCreated }: { organizationId: string; onCreated: () => void }) {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedOrchestrator | null>(null);
  const { busy, error, submit } = useSubmit(async () => {
    const o = await api.createOrchestrator({ orchestrator_id: id.trim(), organization_id: organizationId, name: name.trim() || id.trim() });
    setCreated(o);
    setId('');
    setName('');
    onCreated();
  });

  return (
    <details className="card">
      <summary>New orchestrator</summary>
      <form onSubmit={submit} className="form-grid">
        <div className="field">
          <label htmlFor="orch-id">Orchestrator id</label>
          <input id="orch-id" value={id} onChange={(e) => setId(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="orch-name">Name (optional)</label>
          <input id="orch-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <FormActions label="Create orchestrator" disabled={busy || !id.trim()} error={error} />
      </form>
      {created && <CredentialDialog orchestratorId={created.orchestrator_id} token={created.token} onClose={() => setCreated(null)} />}
    </details>
  );
}

/** The one showing of an orchestrator credential, with copy. */
export function CredentialDialog({ orchestratorId, token, onClose }: { orchestratorId: string; token: string; onClose: () => void }) {
  const { config } = useLive();
  const wsUrl = orchestratorUrl(window.location, config ?? DEFAULT_UI_CONFIG);
  return (
    <Dialog
      title={`Credential for ${orchestratorId}`}
      onClose={onClose}
      actions={
        <button type="button" className="btn btn-primary" onClick={onClose}>
          I have saved it
        </button>
      }
    >
      <p>
        This credential is shown <strong>only now</strong>. Give it to the orchestrator (its <code>register</code> frame’s <code>token</code>); the
        controller keeps only a hash of it.
      </p>
      <label htmlFor="credential">Credential</label>
      <div className="credential">
        <input id="credential" readOnly value={token} onFocus={(e) => e.currentTarget.select()} data-autofocus />
        <CopyButton text={token} label="Copy credential" />
      </div>
      <label htmlFor="ws-url">WebSocket URL</label>
      <div className="credential">
        <input id="ws-url" readOnly value={wsUrl} onFocus={(e) => e.currentTarget.select()} />
        <CopyButton text={wsUrl} label="Copy WebSocket URL" />
      </div>
      <p className="muted small">
        The orchestrator connects to this URL and sends <code>{`{"type":"register","orchestrator_id":"${orchestratorId}","token":"…"}`}</code>.
      </p>
    </Dialog>
  );
}
