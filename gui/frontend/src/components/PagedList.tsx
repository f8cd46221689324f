// The parts every paged list repeats: the filter bar, its search box, and
// the body (past the last page, empty, or the rows with the pager).
import type { ReactNode } from 'react';
import { SortState, sortedByServer } from '../lib/sort';
import { Pagination, PastLastPage } from './Pagination';
import { Empty } from './States';

/** The filter bar above a list. */
export function Filters({ label, children }: { label: string; children: ReactNode }) {
  return (
    <form className="filters" role="search" aria-label={label} onSubmit={(e) => e.preventDefault()}>
      {children}
    </form>
  );
}

/** A labelled search box. */
export function SearchField({
  id,
  value,
  onChange,
  label = 'Search',
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  label?: string;
  placeholder?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

export interface SortOption {
  key: string;
  label: string;
}

/**
 * The order as one picker, for narrow screens, where a table's rows are
 * cards and its sortable headers are not shown.
 */
export function SortPicker({ options, sort, onChange }: { options: SortOption[]; sort: SortState | null; onChange: (s: SortState | null) => void }) {
  const value = sort ? `${sort.key}:${sort.dir}` : '';
  return (
    <div className="field inline narrow-only sort-picker">
      <label htmlFor="sort-picker">Sort by</label>
      <select
        id="sort-picker"
        value={value}
        onChange={(e) => {
          const [key = '', dir = 'asc'] = e.target.value.split(':');
          onChange(key ? { key, dir: dir === 'desc' ? 'desc' : 'asc' } : null);
        }}
      >
        <option value="">default order</option>
        {options.flatMap((o) => [
          <option key={`${o.key}:asc`} value={`${o.key}:asc`}>
            {o.label} ↑
          </option>,
          <option key={`${o.key}:desc`} value={`${o.key}:desc`}>
            {o.label} ↓
          </option>,
        ])}
      </select>
    </div>
  );
}

/**
 * A page of a list: "past the last page" when a page beyond the end was
 * asked for, `empty` when nothing matches, else the rows (`children`), a
 * note when the controller could not sort as asked, and the pager.
 */
export function PagedList({
  data,
  page,
  pageSize,
  label,
  empty,
  onPage,
  onPageSize,
  sort = null,
  sortOptions,
  onSortChange,
  children,
}: {
  data: { items: unknown[]; total: number; sort?: string | null; order?: string | null };
  page: number;
  pageSize: number;
  /** The pager's accessible name, e.g. "Orchestrator pages". */
  label: string;
  empty: ReactNode;
  onPage: (page: number) => void;
  onPageSize?: (size: number) => void;
  sort?: SortState | null;
  /** The table's sortable columns: a picker for narrow screens. */
  sortOptions?: SortOption[];
  onSortChange?: (s: SortState | null) => void;
  children: ReactNode;
}) {
  if (data.items.length === 0 && data.total > 0)
    return <PastLastPage page={page} total={data.total} pageSize={pageSize} onFirst={() => onPage(1)} />;
  if (data.items.length === 0) return <Empty>{empty}</Empty>;
  return (
    <>
      {sortOptions && onSortChange && <SortPicker options={sortOptions} sort={sort} onChange={onSortChange} />}
      {children}
      {!sortedByServer(sort, data) && (
        <p className="muted small sort-note">
          Sorted within this page only: the controller’s storage plugin predates ABI 1.3 and cannot sort the whole list.
        </p>
      )}
      <Pagination page={page} pageSize={pageSize} total={data.total} label={label} onPage={onPage} onPageSize={onPageSize} />
    </>
  );
}
