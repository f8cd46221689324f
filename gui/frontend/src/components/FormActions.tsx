import { ErrorBox } from './States';

/** The end of a create form: its submit button, what it did, and the error of the last try. */
export function FormActions({ label, disabled, done, error }: { label: string; disabled: boolean; done?: string; error: unknown }) {
  return (
    <>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={disabled}>
          {label}
        </button>
        {done !== undefined && <span role="status">{done}</span>}
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}
