import type { SortState } from '../lib/sort';

/** A column header that sorts; aria-sort says the current order. */
export function SortHeader({ label, sortKey, sort, onSort }: { label: string; sortKey: string; sort: SortState | null; onSort?: (key: string) => void }) {
  const active = sort?.key === sortKey;
  const ariaSort = active ? (sort!.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  if (!onSort) return <th scope="col">{label}</th>;
  return (
    <th scope="col" aria-sort={ariaSort}>
      <button type="button" className="sort-button" onClick={() => onSort(sortKey)}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {active ? (sort!.dir === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
        </span>
      </button>
    </th>
  );
}

/** One sortable header per option, in order (the same options feed the narrow-screen picker). */
export function SortHeaders({ options, sort, onSort }: { options: readonly { key: string; label: string }[]; sort: SortState | null; onSort: (key: string) => void }) {
  return (
    <>
      {options.map((o) => (
        <SortHeader key={o.key} label={o.label} sortKey={o.key} sort={sort} onSort={onSort} />
      ))}
    </>
  );
}
