// Sorting the rows on screen by a column, with the direction in the URL.
export type SortDir = 'asc' | 'desc';
export interface SortState {
  key: string;
  dir: SortDir;
}

export function sortRows<T>(rows: T[], sort: SortState | null, value: (row: T, key: string) => string | number | null | undefined): T[] {
  if (!sort) return rows;
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = value(a, sort.key);
    const vb = value(b, sort.key);
    if (va == null && vb == null) return 0;
    if (va == null) return 1; // empty last either way
    if (vb == null) return -1;
    if (typeof va === 'number' && typeof vb === 'number') return (va - vb) * sign;
    return String(va).localeCompare(String(vb), 'en', { numeric: true }) * sign;
  });
}

/** "name" / "-name" in the URL's sort parameter. */
export function parseSort(v: string | null): SortState | null {
  if (!v) return null;
  return v.startsWith('-') ? { key: v.slice(1), dir: 'desc' } : { key: v, dir: 'asc' };
}

export function sortParam(s: SortState | null): string {
  return s ? (s.dir === 'desc' ? `-${s.key}` : s.key) : '';
}

/** Clicking a header: ascending first, then descending, then back to ascending. */
export function nextSort(cur: SortState | null, key: string): SortState {
  return cur && cur.key === key && cur.dir === 'asc' ? { key, dir: 'desc' } : { key, dir: 'asc' };
}
