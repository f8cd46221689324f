// Independence for many orchestrators at once: the selected rows (or a whole
// organization) are switched after ONE confirmation, one PUT per
// orchestrator; the result says which ones failed and why.
import { useState } from 'react';
import { useApi } from '../auth/session';
import { ConfirmDialog } from './Dialog';
import { errorText } from './States';

export interface BulkResult {
  done: string[];
  failed: { id: string; error: string }[];
}

export async function setIndependenceAll(
  api: { setIndependence: (id: string, on: boolean) => Promise<unknown> },
  ids: string[],
  on: boolean,
  concurrency = 4,
): Promise<BulkResult> {
  const result: BulkResult = { done: [], failed: [] };
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        await api.setIndependence(id, on);
        result.done.push(id);
      } catch (e) {
        result.failed.push({ id, error: errorText(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return result;
}

export function BulkIndependence({
  ids,
  what,
  label,
  onDone,
  idsFor,
}: {
  /** The selected orchestrators; ignored when idsFor is given. */
  ids: string[];
  /** "3 selected", "every orchestrator of Acme": shown and asked about. */
  what: string;
  /** The group's stable name ("the selected orchestrators"); defaults to `what`. */
  label?: string;
  onDone: (r: BulkResult) => void;
  /** Resolves the ids at confirmation time (a whole organization). */
  idsFor?: () => Promise<string[]>;
}) {
  const api = useApi();
  const [asking, setAsking] = useState<null | boolean>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<(BulkResult & { on: boolean }) | null>(null);
  const disabled = !idsFor && ids.length === 0;

  const run = async (on: boolean) => {
    setBusy(true);
    try {
      const targets = idsFor ? await idsFor() : ids;
      const r = await setIndependenceAll(api, targets, on);
      setResult({ ...r, on });
      onDone(r);
    } catch (e) {
      setResult({ done: [], failed: [{ id: '—', error: errorText(e) }], on });
    } finally {
      setBusy(false);
      setAsking(null);
    }
  };

  return (
    <div className="bulk-bar" role="group" aria-label={`Independence of ${label ?? what}`}>
      <span className="bulk-what">{what}</span>
      <button type="button" className="btn" disabled={disabled || busy} onClick={() => setAsking(true)}>
        Make independent
      </button>
      <button type="button" className="btn" disabled={disabled || busy} onClick={() => setAsking(false)}>
        Resume monitoring
      </button>
      <span role="status" className="bulk-result">
        {result &&
          (result.failed.length === 0
            ? `${result.done.length} orchestrator${result.done.length === 1 ? '' : 's'} ${result.on ? 'now independent' : 'monitored again'}.`
            : `${result.done.length} changed, ${result.failed.length} failed: ${result.failed.map((f) => `${f.id} (${f.error})`).join(', ')}`)}
      </span>
      {asking !== null && (
        <ConfirmDialog
          title={asking ? `Make ${what} independent?` : `Resume monitoring of ${what}?`}
          confirmLabel={asking ? 'Make independent' : 'Resume monitoring'}
          danger={false}
          busy={busy}
          onCancel={() => setAsking(null)}
          onConfirm={() => void run(asking)}
        >
          {asking ? (
            <p>Each one is told to stop monitoring at once; its heartbeats are no longer processed and its messages are held.</p>
          ) : (
            <p>Each one is monitored again: its heartbeats are processed and held recommendations are delivered.</p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
