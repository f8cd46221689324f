// A superadmin changes a user's role (and organization) or sets a new
// password, each in its own dialog. The controller applies a role change at
// the user's next request; a new password does not end sessions already open.
import { useState } from 'react';
import type { Role, User } from '../api/types';
import { useApi } from '../auth/session';
import { useResource } from '../live/useResource';
import { Dialog } from './Dialog';
import { ErrorBox } from './States';

export function ChangeRoleDialog({ user, onDone, onClose }: { user: User; onDone: (u: User) => void; onClose: () => void }) {
  const api = useApi();
  const orgs = useResource(() => api.organizations({ page_size: 1000 }), [api]);
  const [role, setRole] = useState<Role>(user.role);
  const [org, setOrg] = useState(user.organization_id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      onDone(await api.updateUser(user.username, role === 'org_admin' ? { role, organization_id: org } : { role }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Role of ${user.username}`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" disabled={busy || (role === 'org_admin' && !org)} onClick={() => void save()}>
            Save role
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="field">
          <label htmlFor="edit-role">Role</label>
          <select id="edit-role" value={role} onChange={(e) => setRole(e.target.value as Role)} data-autofocus>
            <option value="org_admin">org_admin (one organization)</option>
            <option value="superadmin">superadmin (every organization)</option>
          </select>
        </div>
        {role === 'org_admin' && (
          <div className="field">
            <label htmlFor="edit-org">Organization</label>
            <select id="edit-org" value={org} onChange={(e) => setOrg(e.target.value)}>
              <option value="">Choose…</option>
              {orgs.data?.items.map((o) => (
                <option key={o.organization_id} value={o.organization_id}>
                  {o.name} ({o.organization_id})
                </option>
              ))}
            </select>
          </div>
        )}
        <p className="muted small">Takes effect at the user’s next request.</p>
        {error ? <ErrorBox error={error} /> : null}
      </div>
    </Dialog>
  );
}

export function ResetPasswordDialog({ user, onDone, onClose }: { user: User; onDone: () => void; onClose: () => void }) {
  const api = useApi();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const tooShort = password.length < 8;
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.updateUser(user.username, { password });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`New password for ${user.username}`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" disabled={busy || tooShort} onClick={() => void save()}>
            Set password
          </button>
        </>
      }
    >
      <div className="stack">
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="new-password-help"
            data-autofocus
          />
          <span id="new-password-help" className="muted small">
            At least 8 characters. Sessions already signed in stay valid until they expire; delete the user to end them at once.
          </span>
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </div>
    </Dialog>
  );
}
