// Loading, error and empty states, so every page says what is going on.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}`;
    if (error.status === 404) return `Not found: ${error.message}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{errorText(error)}</p>
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** The usual trio around content that arrives from the controller. */
export function Loaded<T>({
  data,
  error,
  loading,
  reload,
  what,
  children,
}: {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload?: () => void;
  what?: string;
  children: (data: T) => ReactNode;
}) {
  if (data === undefined) {
    if (error) return <ErrorBox error={error} onRetry={reload} />;
    if (loading) return <Loading what={what} />;
    return null;
  }
  return (
    <>
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {children(data)}
    </>
  );
}
