import { fireEvent, render, screen } from '@testing-library/react';
import { LineChart } from './LineChart';

describe('LineChart', () => {
  const times = [Date.UTC(2026, 0, 1, 10), Date.UTC(2026, 0, 1, 11), Date.UTC(2026, 0, 1, 12)];
  const series = [
    { name: 'active', className: 'series-active', values: [1, 2, 3] },
    { name: 'inactive', className: 'series-inactive', values: [3, 2, null] },
  ];

  it('is one labelled image with axes, a legend and its numbers in a table', () => {
    const { container } = render(<LineChart integer title="By status" times={times} series={series} timeFormat={(t) => new Date(t).toISOString().slice(11, 16)} />);
    expect(screen.getByRole('img', { name: 'By status: active now 3, inactive now 0' })).toBeInTheDocument();
    const labels = [...container.querySelectorAll('.axis-label')].map((t) => t.textContent);
    expect(labels).toEqual(['0', '3', '6', '10:00', '11:00', '12:00']); // whole numbers on a count axis
    expect(container.querySelectorAll('polyline')).toHaveLength(2);
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.getAllByText('—')).toHaveLength(1); // the missing value
  });

  it('marks a value with no neighbour, which no line would show', () => {
    const { container } = render(
      <LineChart title="Latency" times={times} series={[{ name: 'mean', className: 'series-latency', values: [null, 0.02, null] }]} />,
    );
    expect(container.querySelectorAll('circle.series-point')).toHaveLength(1);
    const { container: joined } = render(<LineChart title="By status" times={times} series={series} />);
    expect(joined.querySelectorAll('circle.series-point')).toHaveLength(0);
  });

  it('tells the values under the pointer', () => {
    const { container } = render(<LineChart title="By status" times={times} series={series} timeFormat={(t) => new Date(t).toISOString().slice(11, 16)} />);
    const svg = container.querySelector('svg[role="img"]')!;
    svg.getBoundingClientRect = () => ({ left: 0, top: 0, width: 560, height: 180, right: 560, bottom: 180, x: 0, y: 0, toJSON: () => ({}) });
    fireEvent.mouseMove(svg, { clientX: 550, clientY: 50 });
    expect(container.querySelector('.chart-tooltip')).toHaveTextContent('12:00: active 3, inactive —');
  });
});
