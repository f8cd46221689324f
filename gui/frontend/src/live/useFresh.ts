// Keeps the orchestrator rows on screen fresh and truthful without one event
// per heartbeat: every FRESH_MS the page asks the controller for the
// in-memory status, connection and last heartbeat of exactly those rows
// (GET /controller/orchestrators/last-seen, from the controller's memory) and merges the
// answer. Status and last seen therefore come from the same entry the
// heartbeat path writes, on every page; events still patch rows at once.
import { Dispatch, SetStateAction, useEffect, useRef } from 'react';
import type { FreshStatus, Orchestrator, Page } from '../api/types';
import { useApi } from '../auth/session';

export const FRESH_MS = 5000;
/** The refresh period pages use (tests shorten it). */
export const freshTiming = { ms: FRESH_MS };

/** Merges a fresh summary into rows; returns the same array when nothing changed. */
export function mergeFresh(rows: Orchestrator[], fresh: FreshStatus[]): { rows: Orchestrator[]; statusChanged: boolean } {
  const byId = new Map(fresh.map((f) => [f.orchestrator_id, f]));
  let changed = false;
  let statusChanged = false;
  const next = rows.map((o) => {
    const f = byId.get(o.orchestrator_id);
    if (!f) return o;
    if (f.status !== o.status || f.is_independent !== o.is_independent) statusChanged = true;
    if (f.status === o.status && f.is_independent === o.is_independent && f.connected === o.connected && (f.last_seen ?? null) === (o.last_seen ?? null))
      return o;
    changed = true;
    return { ...o, status: f.status, is_independent: f.is_independent, connected: f.connected, last_seen: f.last_seen ?? o.last_seen };
  });
  return { rows: changed ? next : rows, statusChanged };
}

/**
 * Refreshes the rows of `page` every FRESH_MS while mounted; `onStatusChange`
 * runs when a row's status moved (so counts on the same page follow).
 */
export function useFreshRows(
  page: Page<Orchestrator> | undefined,
  setPage: Dispatch<SetStateAction<Page<Orchestrator> | undefined>>,
  onStatusChange?: () => void,
  periodMs = freshTiming.ms,
): void {
  const api = useApi();
  const ids = page?.items.map((o) => o.orchestrator_id).join(',') ?? '';
  const onChange = useRef(onStatusChange);
  onChange.current = onStatusChange;
  useEffect(() => {
    if (!ids) return;
    let cancelled = false;
    const tick = async () => {
      if (document.hidden) return; // a background tab asks again when shown
      try {
        const fresh = await api.lastSeen(ids.split(','));
        if (cancelled) return;
        let moved = false;
        setPage((d) => {
          if (!d) return d;
          const r = mergeFresh(d.items, fresh.items);
          moved = r.statusChanged;
          return r.rows === d.items ? d : { ...d, items: r.rows };
        });
        if (moved) onChange.current?.();
      } catch {
        // An older controller or a blip: the page's own refetches still run.
      }
    };
    const t = setInterval(() => void tick(), periodMs);
    return () => {
      cancelled = true;
      clearInterval(t);
    };
  }, [api, ids, periodMs, setPage]);
}

/** The same for one orchestrator (its detail page). */
export function useFreshOne(
  o: Orchestrator | null | undefined,
  setO: Dispatch<SetStateAction<Orchestrator | null | undefined>>,
  periodMs = freshTiming.ms,
): void {
  const api = useApi();
  const id = o?.orchestrator_id ?? '';
  useEffect(() => {
    if (!id) return;
    let cancelled = false;
    const t = setInterval(() => {
      if (document.hidden) return;
      api
        .lastSeen([id])
        .then((fresh) => {
          if (cancelled) return;
          setO((cur) => (cur ? mergeFresh([cur], fresh.items).rows[0] : cur));
        })
        .catch(() => undefined);
    }, periodMs);
    return () => {
      cancelled = true;
      clearInterval(t);
    };
  }, [api, id, periodMs, setO]);
}
