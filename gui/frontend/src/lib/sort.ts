// Sorting a list by a column. The controller sorts the whole list (ABI 1.3
// storage) when asked with ?sort=<field>&order=asc|desc; both live in the
// page's URL too. A listing answered with "sort": null was not sorted
// (a storage plugin built before ABI 1.3): the page's rows are then sorted
// here, within the page only, and the page says so.
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

/** The URL's sort and order parameters, when sort names one of `keys`. */
export function parseSort(sort: string | null, order: string | null, keys?: readonly string[]): SortState | null {
  if (!sort || (keys && !keys.includes(sort))) return null;
  return { key: sort, dir: order === 'desc' ? 'desc' : 'asc' };
}

/** The query parameters that ask the controller for `s`. */
export function sortQuery(s: SortState | null): { sort?: string; order?: SortDir } {
  return s ? { sort: s.key, order: s.dir } : {};
}

/** Clicking a header: ascending first, then descending, then back to ascending. */
export function nextSort(cur: SortState | null, key: string): SortState {
  return cur && cur.key === key && cur.dir === 'asc' ? { key, dir: 'desc' } : { key, dir: 'asc' };
}

/** True when the controller sorted the listing as asked (or nothing was asked). */
export function sortedByServer(asked: SortState | null, answered: { sort?: string | null; order?: string | null }): boolean {
  return !asked || (answered.sort === asked.key && answered.order === asked.dir);
}

/** The rows in the asked order: as the controller sent them, or sorted here within the page. */
export function inOrder<T>(
  data: { items: T[]; sort?: string | null; order?: string | null },
  asked: SortState | null,
  value: (row: T, key: string) => string | number | null | undefined,
): T[] {
  return sortedByServer(asked, data) ? data.items : sortRows(data.items, asked, value);
}

/** A record's field as a sort value: times (…_at, time, last_seen) as ms, text without case. */
export function fieldValue(row: object, key: string): string | number | null {
  const v = (row as Record<string, unknown>)[key];
  if (v == null) return null;
  if (typeof v === 'string') return /(_at|^time|^last_seen)$/.test(key) ? Date.parse(v) : v.toLowerCase();
  return typeof v === 'number' ? v : String(v);
}
