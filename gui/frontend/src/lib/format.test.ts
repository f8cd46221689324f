import { relativeTime } from './format';

describe('relativeTime', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  it.each([
    ['2026-11-28T11:59:58Z', 'just now'],
    ['2026-11-28T11:59:18Z', '42 s ago'],
    ['2026-11-28T11:55:00Z', '5 min ago'],
    ['2026-11-28T09:00:00Z', '3 h ago'],
    ['2026-11-26T11:00:00Z', '2 d ago'],
    ['2026-11-28T12:10:00Z', 'in 10 min'],
    ['not a time', '—'],
  ])('%s → %s', (iso, text) => {
    expect(relativeTime(iso, now)).toBe(text);
  });
});
