import { useEffect, useState } from 'react';
import { dateTime, relativeTime } from '../lib/format';

// Re-renders every 10 s so "12 s ago" does not go stale on a page left open.
function useNow(periodMs = 10000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

export function RelativeTime({ iso, never = 'never' }: { iso: string | null | undefined; never?: string }) {
  const now = useNow();
  if (!iso) return <span className="muted">{never}</span>;
  return (
    <time dateTime={iso} title={dateTime(iso)}>
      {relativeTime(iso, now)}
    </time>
  );
}
