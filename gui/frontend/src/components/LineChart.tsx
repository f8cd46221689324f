// A small hand-made SVG line chart with axes, a legend, a tooltip on hover
// and keyboard focus, and the numbers in a table for screen readers (the
// SVG itself is one labelled image). No chart library: three lines and a
// time axis do not need one.
import { useId, useState } from 'react';

export interface Series {
  name: string;
  /** A CSS class giving the line its colour (and a dash pattern, so colour is not the only cue). */
  className: string;
  values: (number | null)[];
}

const W = 560;
const H = 180;
const PAD = { left: 40, right: 12, top: 10, bottom: 26 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function LineChart({
  title,
  times,
  series,
  format = (v) => String(v),
  timeFormat = (t) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
  integer = false,
}: {
  title: string;
  times: number[];
  series: Series[];
  format?: (v: number) => string;
  timeFormat?: (t: number) => string;
  /** Counts: the axis' middle tick stays a whole number. */
  integer?: boolean;
}) {
  const id = useId();
  const [hover, setHover] = useState<number | null>(null);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v != null));
  const top = niceMax(Math.max(0, ...all));
  const max = integer && top % 2 !== 0 ? top + 1 : top;
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 1;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => PAD.left + ((t - t0) / span) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v / max) * (H - PAD.top - PAD.bottom);
  const ticks = [0, max / 2, max];
  const timeTicks = times.length > 1 ? [t0, t0 + span / 2, t1] : [t0];
  const summary = `${title}: ${series.map((s) => `${s.name} now ${format(s.values[s.values.length - 1] ?? 0)}`).join(', ')}`;
  const near = (clientX: number, rect: DOMRect) => {
    const px = ((clientX - rect.left) / rect.width) * W;
    let best = 0;
    times.forEach((t, i) => {
      if (Math.abs(x(t) - px) < Math.abs(x(times[best]!) - px)) best = i;
    });
    return best;
  };

  return (
    <figure className="line-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-t`}
        onMouseMove={(e) => setHover(near(e.clientX, e.currentTarget.getBoundingClientRect()))}
        onMouseLeave={() => setHover(null)}
      >
        <title id={`${id}-t`}>{summary}</title>
        {ticks.map((v) => (
          <g key={v}>
            <line className="grid-line" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text className="axis-label" x={PAD.left - 6} y={y(v) + 4} textAnchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {timeTicks.map((t, i) => (
          <text key={i} className="axis-label" x={x(t)} y={H - 8} textAnchor={i === 0 ? 'start' : i === timeTicks.length - 1 ? 'end' : 'middle'}>
            {timeFormat(t)}
          </text>
        ))}
        {series.map((s) => {
          const pts = s.values
            .map((v, i) => (v == null ? null : `${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`))
            .filter(Boolean)
            .join(' ');
          return <polyline key={s.name} className={`series ${s.className}`} points={pts} fill="none" />;
        })}
        {/* A value with no neighbour makes no line: a dot, so it is not lost. */}
        {series.flatMap((s) =>
          s.values.map((v, i) =>
            v != null && s.values[i - 1] == null && s.values[i + 1] == null ? (
              <circle key={`${s.name}-${i}`} className={`series series-point ${s.className}`} cx={x(times[i]!)} cy={y(v)} r={2} />
            ) : null,
          ),
        )}
        {hover != null && times[hover] != null && (
          <line className="hover-line" x1={x(times[hover]!)} x2={x(times[hover]!)} y1={PAD.top} y2={H - PAD.bottom} />
        )}
      </svg>
      <figcaption className="chart-legend">
        {series.map((s) => (
          <span key={s.name} className="legend-item">
            <svg width="22" height="8" aria-hidden="true">
              <line className={`series ${s.className}`} x1="0" x2="22" y1="4" y2="4" />
            </svg>
            {s.name}
          </span>
        ))}
        <span className="chart-tooltip" aria-live="off">
          {hover != null && times[hover] != null
            ? `${timeFormat(times[hover]!)}: ${series.map((s) => `${s.name} ${s.values[hover] == null ? '—' : format(s.values[hover]!)}`).join(', ')}`
            : ''}
        </span>
      </figcaption>
      <details className="chart-data">
        <summary>Data</summary>
        <table>
          <caption className="sr-only">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              {series.map((s) => (
                <th scope="col" key={s.name} className="num">
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {times.map((t, i) => (
              <tr key={t}>
                <td>{timeFormat(t)}</td>
                {series.map((s) => (
                  <td key={s.name} className="num">
                    {s.values[i] == null ? '—' : format(s.values[i]!)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
