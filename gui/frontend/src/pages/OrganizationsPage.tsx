import { FormEvent, useState } from 'react';
import { Link, Navigate } from 'react-router-dom';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Pagination, PastLastPage } from '../components/Pagination';
import { Empty, ErrorBox, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { dateTime } from '../lib/format';
import { useUrlState, useUrlText } from '../lib/useUrlState';
import { TableWrap } from '../components/TableWrap';

const PAGE_SIZE = 25;

function CreateOrganization({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [location, setLocation] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const org = await api.createOrganization({ organization_id: id.trim(), name: name.trim(), location: location.trim() || undefined });
      setDone(`Created ${org.organization_id}.`);
      setId('');
      setName('');
      setLocation('');
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="card">
      <summary>New organization</summary>
      <form onSubmit={submit} className="form-grid">
        <div className="field">
          <label htmlFor="org-id">Organization id</label>
          <input id="org-id" value={id} onChange={(e) => setId(e.target.value)} required pattern="[A-Za-z0-9._\-]+" />
        </div>
        <div className="field">
          <label htmlFor="org-name">Name</label>
          <input id="org-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="org-location">Location (optional)</label>
          <input id="org-location" value={location} onChange={(e) => setLocation(e.target.value)} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !id.trim() || !name.trim()}>
            Create organization
          </button>
          <span role="status">{done}</span>
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </form>
    </details>
  );
}

export function OrganizationsPage() {
  const api = useApi();
  const user = useUser();
  const { params, page, pageSize, update, setPage, setPageSize } = useUrlState(PAGE_SIZE);
  const [searchText, setSearchText] = useUrlText('search', params, update);
  const search = params.get('search') ?? '';
  const list = useResource(() => api.organizations({ page, page_size: pageSize, search: search || undefined }), [api, page, pageSize, search]);

  // An org_admin has exactly one organization: go straight there.
  if (user.role === 'org_admin' && user.organization_id)
    return <Navigate to={`/organizations/${encodeURIComponent(user.organization_id)}`} replace />;

  return (
    <>
      <PageTitle>Organizations</PageTitle>
      <CreateOrganization onCreated={list.reload} />
      <div className="filters">
        <div className="field">
          <label htmlFor="org-search">Search</label>
          <input id="org-search" type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} placeholder="id or name" />
        </div>
      </div>
      <Loaded {...list} what="Loading organizations">
        {(d) =>
          d.items.length === 0 && d.total > 0 ? (
            <PastLastPage page={page} total={d.total} pageSize={pageSize} onFirst={() => setPage(1)} />
          ) : d.items.length === 0 ? (
            <Empty>{search ? 'No organization matches.' : 'No organizations yet.'}</Empty>
          ) : (
            <>
              <TableWrap label="Organizations table">
                <table className="cards">
                  <caption className="sr-only">Organizations</caption>
                  <thead>
                    <tr>
                      <th scope="col">Organization</th>
                      <th scope="col">Id</th>
                      <th scope="col">Location</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((o) => (
                      <tr key={o.organization_id}>
                        <td>
                          <Link to={`/organizations/${encodeURIComponent(o.organization_id)}`}>{o.name}</Link>
                        </td>
                        <td>
                          <code>{o.organization_id}</code>
                        </td>
                        <td>{o.location || <span className="muted">—</span>}</td>
                        <td>{dateTime(o.created_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <Pagination
                page={page}
                pageSize={pageSize}
                total={d.total}
                label="Organization pages"
                onPage={setPage}
                onPageSize={setPageSize}
              />
            </>
          )
        }
      </Loaded>
    </>
  );
}
