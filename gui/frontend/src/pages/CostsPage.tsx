// Usage costs over a time range, by day, organization, orchestrator and
// model: a chart and, under it, the same numbers as a table.
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { Costs, UsageGroup } from '../api/types';
import { useApi, useUser } from '../auth/session';
import { BarChart } from '../components/BarChart';
import { PageTitle } from '../components/Layout';
import { OrchestratorPicker, OrganizationPicker } from '../components/Pickers';
import { downloadCsv, toCsv } from '../lib/csv';
import { Empty, Loaded } from '../components/States';
import { useResource } from '../live/useResource';
import { count, isoDay, money } from '../lib/format';
import { TableWrap } from '../components/TableWrap';

type Preset = '1' | '7' | '30' | '90' | 'custom';

const PRESETS: [Preset, string][] = [
  ['1', 'Last 24 hours'],
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
  ['custom', 'Custom range'],
];

const DAY_MS = 86400000;

function rangeOf(preset: Preset, fromDay: string, toDay: string, now: number): { from: string; to: string } {
  if (preset === 'custom') {
    // The controller's "to" is exclusive; the picker's last day is inclusive.
    const to = isoDay(new Date(Date.parse(toDay) + DAY_MS));
    return { from: fromDay, to };
  }
  const to = new Date(now);
  const from = new Date(now - Number(preset) * DAY_MS);
  const trim = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  return { from: trim(from), to: trim(to) };
}

/** Every UTC day of the range, with zero where nothing was reported, so the
 *  day chart is a timeline rather than a list of the days that had usage. */
export function fillDays(rows: UsageGroup[], from: string, to: string): UsageGroup[] {
  const start = Date.parse(from.slice(0, 10));
  const end = Date.parse(to);
  if (Number.isNaN(start) || Number.isNaN(end) || end - start > 400 * DAY_MS) return rows;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const out: UsageGroup[] = [];
  for (let t = start; t < end; t += DAY_MS) {
    const key = isoDay(new Date(t));
    out.push(byKey.get(key) ?? { key, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 });
  }
  return out;
}

const HOUR_MS = 3600000;

/** Every UTC hour of a short range, with zero where nothing was reported. */
export function fillHours(rows: UsageGroup[], from: string, to: string): UsageGroup[] {
  const start = Math.floor(Date.parse(from) / HOUR_MS) * HOUR_MS;
  const end = Date.parse(to);
  if (Number.isNaN(start) || Number.isNaN(end) || end - start > 49 * HOUR_MS) return rows;
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const out: UsageGroup[] = [];
  for (let t = start; t < end; t += HOUR_MS) {
    const key = `${new Date(t).toISOString().slice(0, 13)}:00:00Z`;
    out.push(byKey.get(key) ?? { key, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 });
  }
  return out;
}

function CostSection({
  id,
  title,
  rows,
  chartRows = rows,
  columns,
  keyHeader,
  linkTo,
}: {
  id: string;
  title: string;
  rows: UsageGroup[];
  /** What the chart draws, when it differs from the table (days without usage). */
  chartRows?: UsageGroup[];
  columns?: boolean;
  keyHeader: string;
  /** Where a row's key leads (the orchestrator's or organization's page). */
  linkTo?: (key: string) => string;
}) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <Empty>No usage in this range.</Empty>
      ) : (
        <>
          <BarChart title={title} bars={chartRows.map((r) => ({ label: r.key || '(none)', value: r.cost_usd }))} format={money} columns={columns} />
          <TableWrap label={`${title} table`}>
            <table className="compact cards" data-testid={`${id}-table`}>
              <caption className="sr-only">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{keyHeader}</th>
                  <th scope="col" className="num">Requests</th>
                  <th scope="col" className="num">Input tokens</th>
                  <th scope="col" className="num">Output tokens</th>
                  <th scope="col" className="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.key}>
                    <th scope="row">{linkTo && r.key ? <Link to={linkTo(r.key)}>{r.key}</Link> : r.key || '(none)'}</th>
                    <td className="num">{count(r.requests)}</td>
                    <td className="num">{count(r.input_tokens)}</td>
                    <td className="num">{count(r.output_tokens)}</td>
                    <td className="num">{money(r.cost_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
    </section>
  );
}

/** Every grouping of the report in one CSV: group, key, requests, tokens, cost. */
export function costsCsv(c: Costs): string {
  const groups: [string, UsageGroup[]][] = [
    ['day', c.by_day],
    ['hour', c.by_hour ?? []],
    ['organization', c.by_organization],
    ['orchestrator', c.by_orchestrator],
    ['model', c.by_model],
  ];
  return toCsv(
    ['group', 'key', 'requests', 'input_tokens', 'output_tokens', 'cost_usd'],
    groups.flatMap(([g, rows]) => rows.map((r) => [g, r.key, r.requests, r.input_tokens, r.output_tokens, r.cost_usd.toFixed(4)])),
  );
}

export function CostsPage() {
  const api = useApi();
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const preset = (params.get('range') as Preset | null) ?? '30';
  const today = isoDay(new Date());
  const [fromDay, setFromDay] = useState(params.get('from') ?? isoDay(new Date(Date.now() - 7 * DAY_MS)));
  const [toDay, setToDay] = useState(params.get('to') ?? today);
  const organization = params.get('organization_id') ?? '';
  const orchestrator = params.get('orchestrator_id') ?? '';
  const customBad = preset === 'custom' && (!fromDay || !toDay || fromDay > toDay);

  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };

  const costs = useResource(
    async () => {
      if (customBad) throw new Error('Choose a start day on or before the end day.');
      const range = rangeOf(preset, fromDay, toDay, Date.now());
      return api.costs({ ...range, organization_id: organization || undefined, orchestrator_id: orchestrator || undefined });
    },
    [api, preset, fromDay, toDay, organization, orchestrator, customBad],
  );

  return (
    <>
      <PageTitle
        actions={
          <button type="button" className="btn" disabled={!costs.data} onClick={() => costs.data && downloadCsv('costs.csv', costsCsv(costs.data))}>
            Export CSV
          </button>
        }
      >
        Costs
      </PageTitle>
      <form className="filters" aria-label="Time range" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="cost-range">Range</label>
          <select id="cost-range" value={preset} onChange={(e) => set('range', e.target.value === '30' ? '' : e.target.value)}>
            {PRESETS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {preset === 'custom' && (
          <>
            <div className="field">
              <label htmlFor="cost-from">From (UTC day)</label>
              <input id="cost-from" type="date" value={fromDay} max={toDay} onChange={(e) => setFromDay(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="cost-to">To (UTC day, inclusive)</label>
              <input id="cost-to" type="date" value={toDay} min={fromDay} onChange={(e) => setToDay(e.target.value)} />
            </div>
          </>
        )}
        {user.role === 'superadmin' && (
          <OrganizationPicker
            id="cost-org"
            value={organization}
            onChange={(v) => {
              const next = new URLSearchParams(params);
              if (v) next.set('organization_id', v);
              else next.delete('organization_id');
              next.delete('orchestrator_id'); // the orchestrator list follows the organization
              setParams(next, { replace: true });
            }}
          />
        )}
        <OrchestratorPicker id="cost-orch" value={orchestrator} organizationId={organization || undefined} onChange={(v) => set('orchestrator_id', v)} />
      </form>
      <Loaded {...costs} what="Loading costs">
        {(c) => (
          <>
            <ul className="stat-grid" aria-label="Totals in range">
              <li className="stat">
                <span className="stat-value" data-testid="cost-total">
                  {money(c.total.cost_usd)}
                </span>
                <span className="stat-label">Total cost</span>
              </li>
              <li className="stat">
                <span className="stat-value">{count(c.total.requests)}</span>
                <span className="stat-label">Requests</span>
              </li>
              <li className="stat">
                <span className="stat-value">{count(c.total.input_tokens)}</span>
                <span className="stat-label">Input tokens</span>
              </li>
              <li className="stat">
                <span className="stat-value">{count(c.total.output_tokens)}</span>
                <span className="stat-label">Output tokens</span>
              </li>
            </ul>
            {c.by_hour ? (
              <CostSection id="by-hour" title="Cost by hour (UTC)" rows={c.by_hour} chartRows={fillHours(c.by_hour, c.from, c.to)} columns keyHeader="Hour" />
            ) : (
              <CostSection id="by-day" title="Cost by day" rows={c.by_day} chartRows={fillDays(c.by_day, c.from, c.to)} columns keyHeader="Day" />
            )}
            <div className="grid-2">
              <CostSection
                id="by-organization"
                title="Cost by organization"
                rows={c.by_organization}
                keyHeader="Organization"
                linkTo={(k) => `/organizations/${encodeURIComponent(k)}`}
              />
              <CostSection id="by-model" title="Cost by model" rows={c.by_model} keyHeader="Model" />
            </div>
            <CostSection
              id="by-orchestrator"
              title="Cost by orchestrator"
              rows={c.by_orchestrator}
              keyHeader="Orchestrator"
              linkTo={(k) => `/orchestrators/${encodeURIComponent(k)}`}
            />
          </>
        )}
      </Loaded>
    </>
  );
}
