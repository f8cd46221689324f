// A dependency-free bar chart drawn with CSS: horizontal bars for named
// groups, columns for days. HTML text stays readable at any width (an SVG
// viewBox would shrink its labels in a narrow card). The numbers are also in
// the table under each chart, so the chart is one labelled image for screen readers.

export interface Bar {
  label: string;
  value: number;
}

function percent(v: number, max: number): string {
  return max > 0 ? `${((v / max) * 100).toFixed(2)}%` : '0%';
}

export function BarChart({
  bars,
  title,
  format,
  columns = false,
}: {
  bars: Bar[];
  title: string;
  format: (v: number) => string;
  /** Vertical columns (for a time axis) instead of horizontal bars. */
  columns?: boolean;
}) {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const total = bars.reduce((s, b) => s + b.value, 0);
  const summary = `${title}: ${bars.length} ${bars.length === 1 ? 'entry' : 'entries'}, total ${format(total)}`;

  if (columns) {
    // Label every n-th column so labels never overlap.
    const every = Math.max(1, Math.ceil(bars.length / 8));
    return (
      <div className="chart col-chart" role="img" aria-label={summary}>
        <div className="col-chart-max">max {format(max)}</div>
        <div className="col-chart-plot">
          {bars.map((b) => (
            <div key={b.label} className="col-chart-slot" title={`${b.label}: ${format(b.value)}`}>
              <div className="chart-bar" data-bar={b.label} data-value={b.value} style={{ height: percent(b.value, max) }} />
            </div>
          ))}
        </div>
        <div className="col-chart-labels">
          {bars.map((b, i) => (
            <span key={b.label}>{i % every === 0 ? (b.label.includes('T') ? b.label.slice(11, 16) : b.label.slice(5)) : ''}</span>
          ))}
        </div>
      </div>
    );
  }

  return (
    <div className="chart hbar-chart" role="img" aria-label={summary}>
      {bars.map((b) => (
        <div key={b.label} className="hbar-row" title={`${b.label}: ${format(b.value)}`}>
          <span className="hbar-label">{b.label || '(none)'}</span>
          <span className="hbar-track">
            <span className="chart-bar" data-bar={b.label} data-value={b.value} style={{ width: percent(b.value, max) }} />
          </span>
          <span className="hbar-value">{format(b.value)}</span>
        </div>
      ))}
    </div>
  );
}
