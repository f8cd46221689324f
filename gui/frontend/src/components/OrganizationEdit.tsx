// A superadmin edits an organization's name and location, or deletes it.
// The controller refuses to delete an organization that still has
// orchestrators or users (409); the page says so in the controller's words.
import { FormEvent, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { ApiError } from '../api/client';
import type { Organization } from '../api/types';
import { useApi } from '../auth/session';
import { ConfirmDialog } from './Dialog';
import { ErrorBox } from './States';

export function deleteRefusal(e: unknown): string | null {
  return e instanceof ApiError && e.status === 409 ? `Cannot delete: ${e.message}` : null;
}

export function OrganizationEdit({ org, onSaved }: { org: Organization; onSaved: (o: Organization) => void }) {
  const api = useApi();
  const navigate = useNavigate();
  const [name, setName] = useState(org.name);
  const [location, setLocation] = useState(org.location ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const [asking, setAsking] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone('');
    try {
      const o = await api.updateOrganization(org.organization_id, { name: name.trim(), location: location.trim() });
      onSaved(o);
      setDone('Saved.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteOrganization(org.organization_id);
      navigate('/organizations', { replace: true });
    } catch (err) {
      setError(err);
      setAsking(false);
    } finally {
      setBusy(false);
    }
  };
  const refusal = deleteRefusal(error);

  return (
    <details className="card">
      <summary>Edit or delete</summary>
      <form onSubmit={save} className="form-grid">
        <div className="field">
          <label htmlFor="org-edit-name">Name</label>
          <input id="org-edit-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="org-edit-location">Location</label>
          <input id="org-edit-location" value={location} onChange={(e) => setLocation(e.target.value)} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
            Save
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => setAsking(true)}>
            Delete organization
          </button>
          <span role="status">{done}</span>
        </div>
      </form>
      {refusal ? (
        <div className="state state-error" role="alert" data-testid="org-delete-refused">
          <p>{refusal}</p>
        </div>
      ) : error ? (
        <ErrorBox error={error} />
      ) : null}
      {asking && (
        <ConfirmDialog
          title={`Delete ${org.name}?`}
          confirmLabel="Delete organization"
          danger
          busy={busy}
          onCancel={() => setAsking(false)}
          onConfirm={() => void remove()}
        >
          <p>Only an empty organization can be deleted: deregister its orchestrators and delete its users first.</p>
        </ConfirmDialog>
      )}
    </details>
  );
}
