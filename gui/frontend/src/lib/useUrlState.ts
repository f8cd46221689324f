// Filters, page, page size and sort kept in the URL, so links, reloads and
// Back keep them; free-text fields are written after a short pause.
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { nextSort, parseSort, SortState, sortQuery } from './sort';
import { useDebounced } from './useDebounced';

/**
 * `sortKeys`: the fields the list's controller endpoint sorts by; a URL
 * naming another is read as no sort (the controller would answer 400).
 */
export function useUrlState(defaultPageSize: number, sortKeys: readonly string[] = []) {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = Math.min(1000, Math.max(1, Number(params.get('page_size')) || defaultPageSize));
  const sort = parseSort(params.get('sort'), params.get('order'), sortKeys);
  const update = (changes: Record<string, string>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (resetPage) next.delete('page');
    setParams(next, { replace: true });
  };
  const setPage = (p: number) => update({ page: p > 1 ? String(p) : '' }, false);
  const setPageSize = (n: number) => update({ page_size: n === defaultPageSize ? '' : String(n) });
  return {
    params,
    page,
    pageSize,
    update,
    setPage,
    setPageSize,
    /** PagedList's paging and sort props: <PagedList data={d} {...pager} …>. */
    pager: {
      page,
      pageSize,
      sort,
      onPage: setPage,
      onPageSize: setPageSize,
      onSortChange: (s: SortState | null) => update({ sort: s?.key ?? '', order: s?.dir ?? '' }),
    },
    /** The paging and sort query of the list request, and what it depends on. */
    listQuery: { page, page_size: pageSize, ...sortQuery(sort) },
    listDeps: [page, pageSize, sort?.key, sort?.dir],
    /** The asked order, for the table headers. */
    sort,
    /** What to send the controller: { sort, order } or nothing. */
    sortQuery: sortQuery(sort),
    /** A header was clicked: the whole list is sorted anew from its first page. */
    onSort: (key: string) => {
      const s = nextSort(sort, key);
      update({ sort: s.key, order: s.dir });
    },
  };
}

/** A text box whose (debounced, trimmed) value lives in the URL parameter `name`. */
export function useUrlText(name: string, params: URLSearchParams, update: (c: Record<string, string>) => void): [string, (v: string) => void] {
  const [text, setText] = useState(params.get(name) ?? '');
  const value = useDebounced(text.trim(), 300);
  useEffect(() => {
    if (value !== (params.get(name) ?? '')) update({ [name]: value });
  }, [value]);
  return [text, setText];
}
