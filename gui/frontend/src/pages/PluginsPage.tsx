import { useApi } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { TableWrap } from '../components/TableWrap';

export function PluginsPage() {
  const api = useApi();
  const plugins = useResource(() => api.plugins(), [api]);
  return (
    <>
      <PageTitle>Plugins</PageTitle>
      <Loaded {...plugins} what="Loading plugins">
        {(p) => (
          <>
            <p>
              Host plugin ABI <strong data-testid="host-abi">{p.host_abi_version}</strong>
            </p>
            {p.items.length === 0 ? (
              <Empty>No plugins loaded.</Empty>
            ) : (
              <TableWrap label="Plugins table">
                <table className="cards">
                  <caption className="sr-only">Loaded plugins</caption>
                  <thead>
                    <tr>
                      <th scope="col">Plugin</th>
                      <th scope="col">Version</th>
                      <th scope="col">ABI</th>
                      <th scope="col">Capabilities</th>
                      <th scope="col">Threading</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.items.map((x) => (
                      <tr key={x.name}>
                        <td>
                          <strong>{x.name}</strong>
                          {x.description && <div className="muted small">{x.description}</div>}
                        </td>
                        <td>{x.version}</td>
                        <td>{x.abi_version}</td>
                        <td>
                          <ul className="tags">
                            {x.capabilities.map((c) => (
                              <li key={c} className="tag">
                                {c}
                              </li>
                            ))}
                          </ul>
                        </td>
                        <td>{x.threading}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}
