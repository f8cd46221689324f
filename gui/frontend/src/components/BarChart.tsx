// A plain-SVG bar chart: horizontal bars for named groups, columns for days.
// The numbers are also in the table the costs page puts under each chart,
// so the SVG carries one summary label for screen readers.

export interface Bar {
  label: string;
  value: number;
}

const WIDTH = 640;

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
  const scale = (v: number, room: number) => (max > 0 ? (v / max) * room : 0);

  if (columns) {
    const height = 200;
    const plotTop = 16;
    const plotBottom = height - 28;
    const room = plotBottom - plotTop;
    const slot = WIDTH / Math.max(bars.length, 1);
    const barW = Math.max(2, Math.min(48, slot * 0.7));
    // Label every n-th day so labels never overlap.
    const every = Math.max(1, Math.ceil(bars.length / 10));
    return (
      <svg className="chart" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        <line x1={0} x2={WIDTH} y1={plotBottom} y2={plotBottom} className="chart-axis" />
        {bars.map((b, i) => {
          const h = scale(b.value, room);
          const x = i * slot + (slot - barW) / 2;
          return (
            <g key={b.label} data-bar={b.label} data-value={b.value}>
              <rect x={x} y={plotBottom - h} width={barW} height={h} className="chart-bar" rx={2}>
                <title>{`${b.label}: ${format(b.value)}`}</title>
              </rect>
              {i % every === 0 && (
                <text x={x + barW / 2} y={height - 10} textAnchor="middle" className="chart-label">
                  {b.label.slice(5)}
                </text>
              )}
            </g>
          );
        })}
        <text x={4} y={12} className="chart-label">
          max {format(max)}
        </text>
      </svg>
    );
  }

  const row = 26;
  const labelW = 170;
  const valueW = 110;
  const height = Math.max(row, bars.length * row) + 4;
  const room = WIDTH - labelW - valueW;
  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
      {bars.map((b, i) => {
        const y = i * row + 4;
        const w = Math.max(scale(b.value, room), b.value > 0 ? 2 : 0);
        const shown = b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label;
        return (
          <g key={b.label} data-bar={b.label} data-value={b.value}>
            <text x={labelW - 8} y={y + 15} textAnchor="end" className="chart-label">
              {shown || '(none)'}
            </text>
            <rect x={labelW} y={y} width={w} height={row - 8} className="chart-bar" rx={2}>
              <title>{`${b.label}: ${format(b.value)}`}</title>
            </rect>
            <text x={labelW + w + 6} y={y + 15} className="chart-value">
              {format(b.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
