import { useEffect } from 'react';
import { useApi } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { TableWrap } from '../components/TableWrap';
import { useUrlState, useUrlText } from '../lib/useUrlState';
import type { LogLine } from '../api/types';

export const TAIL_MS = 2000;

/** Newest first, and only the lines whose message, source or level contain `search`. */
export function shownLines(lines: LogLine[], search: string): LogLine[] {
  const needle = search.toLowerCase();
  const hit = (l: LogLine) => !needle || `${l.level} ${l.source} ${l.message}`.toLowerCase().includes(needle);
  return [...lines].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).filter(hit);
}

// Recent controller log lines (an in-memory ring on the controller); no event
// announces new lines, so the live tail asks again every 2 s (or the page
// polls at its usual pace when the tail is paused).
export function LogsPage() {
  const api = useApi();
  const { params, update } = useUrlState(200);
  const level = params.get('level') ?? 'info';
  const limit = Number(params.get('limit')) || 200;
  const tail = params.get('tail') !== 'off';
  const [searchText, setSearchText] = useUrlText('search', params, update);
  const search = params.get('search') ?? '';
  const logs = useResource(() => api.logs({ level, limit }), [api, level, limit], { alwaysPoll: true });
  const reload = logs.reload;
  useEffect(() => {
    if (!tail) return;
    const t = setInterval(reload, TAIL_MS);
    return () => clearInterval(t);
  }, [tail, reload]);
  return (
    <>
      <PageTitle actions={<button type="button" className="btn" onClick={logs.reload}>Refresh</button>}>Logs</PageTitle>
      <form className="filters" role="search" aria-label="Log filters" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="log-search">Search</label>
          <input id="log-search" type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} placeholder="text, source or level" />
        </div>
        <div className="field">
          <label htmlFor="log-level">Lowest level</label>
          <select id="log-level" value={level} onChange={(e) => update({ level: e.target.value === 'info' ? '' : e.target.value })}>
            <option value="debug">debug</option>
            <option value="info">info</option>
            <option value="warn">warn</option>
            <option value="error">error</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-limit">Lines</label>
          <select id="log-limit" value={limit} onChange={(e) => update({ limit: e.target.value === '200' ? '' : e.target.value })}>
            {[100, 200, 500, 2000].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <input id="log-tail" type="checkbox" checked={tail} onChange={(e) => update({ tail: e.target.checked ? '' : 'off' })} />
          <label htmlFor="log-tail">Live tail (every {TAIL_MS / 1000} s)</label>
        </div>
      </form>
      <Loaded {...logs} what="Loading log lines">
        {(all) => {
          const lines = shownLines(all, search);
          return lines.length === 0 ? (
            <Empty>{search ? 'No log line matches this search.' : 'No log lines at this level.'}</Empty>
          ) : (
            <TableWrap label="Log lines" className="log-wrap">
              <table className="compact logs cards">
                <caption className="sr-only">Controller log, newest first</caption>
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
          );
        }}
      </Loaded>
    </>
  );
}
