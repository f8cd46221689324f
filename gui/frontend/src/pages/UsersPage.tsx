import { useState } from 'react';
import { useSubmit } from '../lib/useSubmit';
import type { User } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { ConfirmDialog } from '../components/Dialog';
import { PageTitle } from '../components/Layout';
import { FormActions } from '../components/FormActions';
import { PagedList } from '../components/PagedList';
import { OrganizationPicker } from '../components/Pickers';
import { SortHeaders } from '../components/SortHeader';
import { ErrorBox, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { dateTime } from '../lib/format';
import { fieldValue, inOrder } from '../lib/sort';
import { useUrlState } from '../lib/useUrlState';
import { TableWrap } from '../components/TableWrap';
import { ChangeRoleDialog, ResetPasswordDialog } from '../components/UserEdit';

const PAGE_SIZE = 50;
const USER_SORTS = [
  { key: 'username', label: 'Username' },
  { key: 'role', label: 'Role' },
  { key: 'organization_id', label: 'Organization' },
  { key: 'created_at', label: 'Created' },
];
const USER_SORT_KEYS = USER_SORTS.map((o) => o.key);


/** What a change did to the user's open sessions, for the notice. */
export function sessionsNote(u: User): string {
  if (u.sessions_ended === null) return ' Their open sessions stay until they expire: the controller’s storage cannot end them.';
  if (!u.sessions_ended) return '';
  return ` ${u.sessions_ended} open session${u.sessions_ended === 1 ? '' : 's'} ended.`;
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'org_admin' | 'superadmin'>('org_admin');
  const [org, setOrg] = useState('');
  const [done, setDone] = useState('');
  const tooShort = password.length > 0 && password.length < 8;
  const { busy, error, submit } = useSubmit(async () => {
    setDone('');
    const u = await api.createUser({ username: username.trim(), password, role, organization_id: role === 'org_admin' ? org : undefined });
    setDone(`Created ${u.username} (${u.role}).`);
    setUsername('');
    setPassword('');
    onCreated();
  });
  return (
    <section className="card" aria-labelledby="new-user">
      <h2 id="new-user">New user</h2>
      <form onSubmit={submit} className="form-grid">
        <div className="field">
          <label htmlFor="user-name">Username</label>
          <input id="user-name" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="user-password">Password</label>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby="user-password-help"
            aria-invalid={tooShort}
            required
          />
          <span id="user-password-help" className="muted small">
            At least 8 characters.
          </span>
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as 'org_admin' | 'superadmin')}>
            <option value="org_admin">org_admin (one organization)</option>
            <option value="superadmin">superadmin (everything)</option>
          </select>
        </div>
        {role === 'org_admin' && <OrganizationPicker id="user-org" value={org} onChange={setOrg} emptyLabel="Choose…" required />}
        <FormActions label="Create user" disabled={busy || !username.trim() || password.length < 8 || (role === 'org_admin' && !org)} done={done} error={error} />
      </form>
    </section>
  );
}

export function UsersPage() {
  const api = useApi();
  const me = useUser();
  const { pager, listQuery, listDeps, sort, onSort } = useUrlState(PAGE_SIZE, USER_SORT_KEYS);
  const users = useResource(
    () => api.users(listQuery),
    [api, ...listDeps],
  );
  const [deleting, setDeleting] = useState<User | null>(null);
  const [editing, setEditing] = useState<{ user: User; what: 'role' | 'password' } | null>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const remove = async () => {
    if (!deleting) return;
    setBusy(true);
    setError(null);
    try {
      await api.deleteUser(deleting.username);
      users.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  };

  return (
    <>
      <PageTitle>Users</PageTitle>
      {me.role === 'superadmin' && <CreateUser onCreated={users.reload} />}
      {error ? <ErrorBox error={error} /> : null}
      <p role="status" className="muted">
        {notice}
      </p>
      <Loaded {...users} what="Loading users">
        {(d) => (
          <PagedList
            data={d}
            {...pager}
            sortOptions={USER_SORTS}
            label="User pages"
            empty="No users."
          >
            <TableWrap label="Users table">
              <table className="cards">
                <caption className="sr-only">Users</caption>
                <thead>
                  <tr>
                    <SortHeaders options={USER_SORTS} sort={sort} onSort={onSort} />
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {inOrder(d, sort, fieldValue).map((u) => (
                    <tr key={u.username}>
                      <td>{u.username}</td>
                      <td>{u.role}</td>
                      <td>{u.organization_id || '—'}</td>
                      <td>{dateTime(u.created_at)}</td>
                      <td>
                        {me.role === 'superadmin' && (
                          <span className="row-actions">
                            {u.username !== me.username && (
                              <button type="button" className="btn btn-small" onClick={() => setEditing({ user: u, what: 'role' })} aria-label={`Change role of ${u.username}`}>
                                Role…
                              </button>
                            )}
                            <button type="button" className="btn btn-small" onClick={() => setEditing({ user: u, what: 'password' })} aria-label={`Reset password of ${u.username}`}>
                              Password…
                            </button>
                            {u.username !== me.username && (
                              <button type="button" className="btn btn-small" onClick={() => setDeleting(u)} aria-label={`Delete user ${u.username}`}>
                                Delete
                              </button>
                            )}
                          </span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </PagedList>
        )}
      </Loaded>
      {editing?.what === 'role' && (
        <ChangeRoleDialog
          user={editing.user}
          onClose={() => setEditing(null)}
          onDone={(u) => {
            setEditing(null);
            setNotice(`${u.username} is now ${u.role}${u.organization_id ? ` of ${u.organization_id}` : ''}.${sessionsNote(u)}`);
            users.reload();
          }}
        />
      )}
      {editing?.what === 'password' && (
        <ResetPasswordDialog
          user={editing.user}
          self={editing.user.username === me.username}
          onClose={() => setEditing(null)}
          onDone={(u) => {
            setNotice(`New password set for ${editing.user.username}.${sessionsNote(u)}`);
            setEditing(null);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog title={`Delete ${deleting.username}?`} confirmLabel="Delete user" danger busy={busy} onCancel={() => setDeleting(null)} onConfirm={() => void remove()}>
          <p>The user is removed and signed out everywhere.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
