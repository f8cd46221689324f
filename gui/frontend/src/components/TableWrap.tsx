import { ReactNode, useLayoutEffect, useRef } from 'react';

/** Gives every body cell a data-label with its column's heading, for the
 *  one-card-per-row layout on narrow screens (CSS shows it before the value). */
export function labelCells(root: HTMLElement): void {
  for (const table of root.querySelectorAll('table')) {
    const heads = [...table.querySelectorAll('thead th')].map((th) => (th.textContent ?? '').replace(/[▲▼↕]/g, '').trim());
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, i) => {
        if (!cell.hasAttribute('data-label') && heads[i]) cell.setAttribute('data-label', heads[i]!);
      });
    }
  }
}

// Wide tables scroll sideways on wide screens and become cards on narrow
// ones (`cards`); a scrolling box must be reachable by keyboard, so it is a
// labelled, focusable region.
export function TableWrap({ label, children, className = '' }: { label: string; children: ReactNode; className?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (box.current) labelCells(box.current);
  });
  return (
    <div ref={box} className={`table-wrap ${className}`.trim()} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
