export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  label,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  label: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav className="pagination" aria-label={label}>
      <span className="pagination-info">
        {first}–{last} of {total.toLocaleString('en-US')}
      </span>
      <button type="button" className="btn" onClick={() => onPage(1)} disabled={page <= 1} aria-label="First page" data-wide-only>
        «
      </button>
      <button type="button" className="btn" onClick={() => onPage(page - 1)} disabled={page <= 1} aria-label="Previous page">
        ‹ Prev
      </button>
      <span aria-current="page">
        Page {page} of {pages.toLocaleString('en-US')}
      </span>
      <button type="button" className="btn" onClick={() => onPage(page + 1)} disabled={page >= pages} aria-label="Next page">
        Next ›
      </button>
      <button type="button" className="btn" onClick={() => onPage(pages)} disabled={page >= pages} aria-label="Last page" data-wide-only>
        »
      </button>
    </nav>
  );
}
