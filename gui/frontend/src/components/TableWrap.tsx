import type { ReactNode } from 'react';

// Wide tables scroll sideways on narrow screens; a scrolling box must be
// reachable by keyboard, so it is a labelled, focusable region.
export function TableWrap({ label, children, className = '' }: { label: string; children: ReactNode; className?: string }) {
  return (
    <div className={`table-wrap ${className}`.trim()} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
