export const PAGE_SIZES = [10, 25, 50, 100];

export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  onPageSize,
  label,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  /** Offers a page-size picker when given. */
  onPageSize?: (size: number) => void;
  label: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : Math.min(total, (page - 1) * pageSize + 1);
  const last = Math.min(total, page * pageSize);
  const sizeId = `page-size-${label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <nav className="pagination" aria-label={label}>
      <span className="pagination-info">
        {first}–{last} of {total.toLocaleString('en-US')}
      </span>
      {onPageSize && (
        <span className="field inline page-size">
          <label htmlFor={sizeId}>Per page</label>
          <select id={sizeId} value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
            {(PAGE_SIZES.includes(pageSize) ? PAGE_SIZES : [...PAGE_SIZES, pageSize].sort((a, b) => a - b)).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </span>
      )}
      <button type="button" className="btn" onClick={() => onPage(1)} disabled={page <= 1} aria-label="First page" data-wide-only>
        «
      </button>
      {/* The visible words are the accessible name (axe: label-content-name-mismatch). */}
      <button type="button" className="btn" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        <span aria-hidden="true">‹ </span>Prev
      </button>
      <span aria-current="page">
        Page {page} of {pages.toLocaleString('en-US')}
      </span>
      <button type="button" className="btn" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next<span aria-hidden="true"> ›</span>
      </button>
      <button type="button" className="btn" onClick={() => onPage(pages)} disabled={page >= pages} aria-label="Last page" data-wide-only>
        »
      </button>
    </nav>
  );
}

/** What to show when a page past the last one was asked for (e.g. ?page=5 of 2). */
export function PastLastPage({ page, total, pageSize, onFirst }: { page: number; total: number; pageSize: number; onFirst: () => void }) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <p className="state state-empty">
      Page {page} is past the last page ({pages}) of {total.toLocaleString('en-US')} results.{' '}
      <button type="button" className="btn-link" onClick={onFirst}>
        Go to page 1
      </button>
    </p>
  );
}
