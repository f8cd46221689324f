// Loads data for a page and keeps it fresh: refetch when a relevant live
// event arrives (coalesced), after each reconnect of the stream, and on a
// timer while the stream is not live.
import { Dispatch, SetStateAction, useCallback, useEffect, useRef, useState } from 'react';
import type { LiveEvent } from './eventStream';
import { useLive, useLiveEvents } from './live';

export interface Resource<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
  setData: Dispatch<SetStateAction<T | undefined>>;
}

export interface ResourceOptions {
  /** Which live events make the data stale. */
  refreshOn?: (e: LiveEvent) => boolean;
  /** Poll even while live (for data no event announces, e.g. log lines). */
  alwaysPoll?: boolean;
}

const COALESCE_MS = 250;

export function useResource<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  options: ResourceOptions = {},
): Resource<T> {
  const { mode, pollIntervalMs, generation } = useLive();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const refreshOnRef = useRef(options.refreshOn);
  refreshOnRef.current = options.refreshOn;
  // Answers to older requests are dropped so a slow page 1 never overwrites page 2.
  const seq = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const run = useCallback((showLoading: boolean) => {
    const mine = ++seq.current;
    if (showLoading) setLoading(true);
    loadRef
      .current()
      .then((d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
      })
      .catch((e: unknown) => {
        if (mine !== seq.current) return;
        setError(e instanceof Error ? e : new Error(String(e)));
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false);
      });
  }, []);

  // First load and whenever the inputs change (filters, page, id).
  useEffect(() => {
    run(true);
  }, deps);

  // After a reconnect, what is on screen may have missed events.
  const firstGeneration = useRef(generation);
  useEffect(() => {
    if (generation !== firstGeneration.current) run(false);
  }, [generation, run]);

  const polling = mode !== 'live' || options.alwaysPoll === true;
  useEffect(() => {
    if (!polling) return;
    const timer = setInterval(() => run(false), pollIntervalMs);
    return () => clearInterval(timer);
  }, [polling, pollIntervalMs, run]);

  useLiveEvents((e) => {
    if (!refreshOnRef.current?.(e)) return;
    if (pending.current) return; // one refetch covers a burst of events
    pending.current = setTimeout(() => {
      pending.current = null;
      run(false);
    }, COALESCE_MS);
  });
  useEffect(
    () => () => {
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );

  const reload = useCallback(() => run(false), [run]);
  return { data, error, loading, reload, setData };
}
