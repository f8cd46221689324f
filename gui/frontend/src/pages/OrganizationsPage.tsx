import { useState } from 'react';
import { useSubmit } from '../lib/useSubmit';
import { Link, Navigate } from 'react-router-dom';
import { useApi, useUser } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { FormActions } from '../components/FormActions';
import { Filters, PagedList, SearchField } from '../components/PagedList';
import { SortHeaders } from '../components/SortHeader';
import { Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { dateTime } from '../lib/format';
import { fieldValue, inOrder } from '../lib/sort';
import { useUrlState, useUrlText } from '../lib/useUrlState';
import { TableWrap } from '../components/TableWrap';

const PAGE_SIZE = 25;
const ORGANIZATION_SORTS = [
  { key: 'name', label: 'Organization' },
  { key: 'organization_id', label: 'Id' },
  { key: 'location', label: 'Location' },
  { key: 'created_at', label: 'Created' },
];
const ORGANIZATION_SORT_KEYS = ORGANIZATION_SORTS.map((o) => o.key);


function CreateOrganization({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [location, setLocation] = useState('');
  const [done, setDone] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const org = await api.createOrganization({ organization_id: id.trim(), name: name.trim(), location: location.trim() || undefined });
    setDone(`Created ${org.organization_id}.`);
    setId('');
    setName('');
    setLocation('');
    onCreated();
  });
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
        <FormActions label="Create organization" disabled={busy || !id.trim() || !name.trim()} done={done} error={error} />
      </form>
    </details>
  );
}

export function OrganizationsPage() {
  const api = useApi();
  const user = useUser();
  const { params, update, pager, listQuery, listDeps, sort, onSort } = useUrlState(PAGE_SIZE, ORGANIZATION_SORT_KEYS);
  const [searchText, setSearchText] = useUrlText('search', params, update);
  const search = params.get('search') ?? '';
  const list = useResource(
    () => api.organizations({ ...listQuery, search: search || undefined }),
    [api, ...listDeps, search],
  );

  // An org_admin has exactly one organization: go straight there.
  if (user.role === 'org_admin' && user.organization_id)
    return <Navigate to={`/organizations/${encodeURIComponent(user.organization_id)}`} replace />;

  return (
    <>
      <PageTitle>Organizations</PageTitle>
      <CreateOrganization onCreated={list.reload} />
      <Filters label="Filter organizations">
        <SearchField id="org-search" placeholder="id or name" value={searchText} onChange={setSearchText} />
      </Filters>
      <Loaded {...list} what="Loading organizations">
        {(d) => (
          <PagedList
            data={d}
            {...pager}
            sortOptions={ORGANIZATION_SORTS}
            label="Organization pages"
            empty={search ? 'No organization matches.' : 'No organizations yet.'}
          >
            <TableWrap label="Organizations table">
              <table className="cards">
                <caption className="sr-only">Organizations</caption>
                <thead>
                  <tr>
                    <SortHeaders options={ORGANIZATION_SORTS} sort={sort} onSort={onSort} />
                  </tr>
                </thead>
                <tbody>
                  {inOrder(d, sort, fieldValue).map((o) => (
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
          </PagedList>
        )}
      </Loaded>
    </>
  );
}
