// A superadmin changes a user's role (and organization) or sets a new
// password, each in its own dialog. Either ends the user's open sessions
// (the controller's answer says how many); one's own new password keeps the
// session it was set from.
import { useState } from 'react';
import type { Role, User } from '../api/types';
import { useApi } from '../auth/session';
import { useSubmit } from '../lib/useSubmit';
import { Dialog } from './Dialog';
import { OrganizationPicker } from './Pickers';
import { ErrorBox } from './States';

export function ChangeRoleDialog({ user, onDone, onClose }: { user: User; onDone: (u: User) => void; onClose: () => void }) {
  const api = useApi();
  const [role, setRole] = useState<Role>(user.role);
  const [org, setOrg] = useState(user.organization_id ?? '');
  const { busy, error, submit: save } = useSubmit(async () =>
    onDone(await api.updateUser(user.username, role === 'org_admin' ? { role, organization_id: org } : { role })),
  );
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
        {role === 'org_admin' && <OrganizationPicker id="edit-org" value={org} onChange={setOrg} emptyLabel="Choose…" />}
        <p className="muted small">Takes effect at once: the user’s open sessions end and they sign in again.</p>
        {error ? <ErrorBox error={error} /> : null}
      </div>
    </Dialog>
  );
}

export function ResetPasswordDialog({
  user,
  self = false,
  onDone,
  onClose,
}: {
  user: User;
  /** The signed-in user's own password: this session stays. */
  self?: boolean;
  onDone: (u: User) => void;
  onClose: () => void;
}) {
  const api = useApi();
  const [password, setPassword] = useState('');
  const tooShort = password.length < 8;
  const { busy, error, submit: save } = useSubmit(async () => onDone(await api.updateUser(user.username, { password })));
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
            At least 8 characters.{' '}
            {self ? 'Your other sessions end; this one stays signed in.' : 'The user’s open sessions end at once.'}
          </span>
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </div>
    </Dialog>
  );
}
