// Filters, page, page size and sort kept in the URL, so links, reloads and
// Back keep them; free-text fields are written after a short pause.
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useDebounced } from './useDebounced';

export function useUrlState(defaultPageSize: number) {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = Math.min(1000, Math.max(1, Number(params.get('page_size')) || defaultPageSize));
  const update = (changes: Record<string, string>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (resetPage) next.delete('page');
    setParams(next, { replace: true });
  };
  return {
    params,
    page,
    pageSize,
    update,
    setPage: (p: number) => update({ page: p > 1 ? String(p) : '' }, false),
    setPageSize: (n: number) => update({ page_size: n === defaultPageSize ? '' : String(n) }),
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
