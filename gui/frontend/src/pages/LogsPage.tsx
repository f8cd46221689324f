import { useState } from 'react';
import { useApi } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { TableWrap } from '../components/TableWrap';

// Recent controller log lines (an in-memory ring on the controller); no event
// announces new lines, so this page polls even while the stream is live.
export function LogsPage() {
  const api = useApi();
  const [level, setLevel] = useState('info');
  const [limit, setLimit] = useState(200);
  const logs = useResource(() => api.logs({ level, limit }), [api, level, limit], { alwaysPoll: true });
  return (
    <>
      <PageTitle actions={<button type="button" className="btn" onClick={logs.reload}>Refresh</button>}>Logs</PageTitle>
      <form className="filters" aria-label="Log filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="log-level">Lowest level</label>
          <select id="log-level" value={level} onChange={(e) => setLevel(e.target.value)}>
            <option value="debug">debug</option>
            <option value="info">info</option>
            <option value="warn">warn</option>
            <option value="error">error</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-limit">Lines</label>
          <select id="log-limit" value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {[100, 200, 500, 2000].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </form>
      <Loaded {...logs} what="Loading log lines">
        {(lines) =>
          lines.length === 0 ? (
            <Empty>No log lines at this level.</Empty>
          ) : (
            <TableWrap label="Log lines" className="log-wrap">
              <table className="compact logs">
                <caption className="sr-only">Controller log</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Level</th>
                    <th scope="col">Source</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {lines.map((l, i) => (
                    <tr key={`${l.time}-${i}`} className={`log-${l.level}`}>
                      <td className="nowrap">{l.time.replace('T', ' ').replace('Z', '')}</td>
                      <td>{l.level}</td>
                      <td>{l.source}</td>
                      <td className="log-message">{l.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Loaded>
    </>
  );
}
