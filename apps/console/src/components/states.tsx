import { JitApiError } from '@jit/client';
import type { ReactNode } from 'react';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** An error as the broker said it: the problem's title and detail, and each field it names. */
export function ErrorState({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problem = error instanceof JitApiError ? error : null;
  return (
    <div className="state state-error" role="alert">
      <p className="state-error-title">
        {title ?? 'Something went wrong'}
        {problem && (
          <>
            : <strong>{problem.title}</strong> <span className="muted">({problem.status})</span>
          </>
        )}
      </p>
      <p>{problem ? problem.detail : error instanceof Error ? error.message : 'Unknown error'}</p>
      {problem && problem.errors.length > 0 && (
        <ul className="field-errors">
          {problem.errors.map((e) => (
            <li key={`${e.field}:${e.message}`}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The message for one field, from a problem naming it (e.g. `target.kind`), for the input's own error line. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof JitApiError)) return undefined;
  return error.errors.find((e) => e.field === field || e.field.startsWith(`${field}.`))?.message;
}
