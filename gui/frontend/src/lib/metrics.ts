// Reading a histogram out of the controller's Prometheus text (/metrics).
export interface HistogramTotals {
  sum: number;
  count: number;
}

/** Sum and count of a histogram, over every label set. */
export function histogramTotals(text: string, name: string): HistogramTotals | null {
  let sum = 0;
  let count = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^(\S+?)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] === `${name}_sum`) {
      sum += Number(m[3]);
      found = true;
    } else if (m[1] === `${name}_count`) {
      count += Number(m[3]);
      found = true;
    }
  }
  return found ? { sum, count } : null;
}

/** Mean of the observations between two readings; null when none arrived. */
export function meanBetween(a: HistogramTotals, b: HistogramTotals): number | null {
  const n = b.count - a.count;
  return n > 0 ? (b.sum - a.sum) / n : null;
}
