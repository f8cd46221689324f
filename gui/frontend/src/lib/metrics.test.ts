import { histogramTotals, meanBetween } from './metrics';

const text = (sum: number, count: number) => `# HELP moolai_heartbeat_ack_seconds Heartbeat frame to queued heartbeat_ack, seconds
# TYPE moolai_heartbeat_ack_seconds histogram
moolai_heartbeat_ack_seconds_bucket{le="0.0001"} ${count}
moolai_heartbeat_ack_seconds_bucket{le="+Inf"} ${count}
moolai_heartbeat_ack_seconds_sum ${sum}
moolai_heartbeat_ack_seconds_count ${count}
moolai_other_sum 99
`;

describe('metrics', () => {
  it('reads a histogram and the mean between two readings', () => {
    const a = histogramTotals(text(0.001, 10), 'moolai_heartbeat_ack_seconds')!;
    const b = histogramTotals(text(0.0016, 16), 'moolai_heartbeat_ack_seconds')!;
    expect(a).toEqual({ sum: 0.001, count: 10 });
    expect(meanBetween(a, b)).toBeCloseTo(0.0001);
    expect(meanBetween(b, b)).toBeNull();
    expect(histogramTotals('nothing 1', 'moolai_heartbeat_ack_seconds')).toBeNull();
  });
});
