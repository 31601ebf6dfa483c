/**
 * The `jit` command's exit codes (docs/clients.md, "Exit codes"). `jit exec` exits with its
 * command's own code once the command has started (or 128 + the signal that ended it); before
 * that, with one of these.
 */
export const EXIT = {
  ok: 0,
  /** The operation ran and its answer is "no": a rules case failed, the audit chain is broken, a grant ended `failed`. */
  failed: 1,
  /** Bad flags, arguments, request file or configuration: nothing was sent. (`jit exec` whose command cannot start: 126/127.) */
  usage: 2,
  /** The rules or an approver said no: `policy_denied`, `denied` (also withdrawn or the approval timeout). */
  denied: 10,
  /** `--timeout` passed before the grant was active (`jit exec` withdraws or revokes it; `jit request` leaves it as it is). */
  timeout: 11,
  /** The broker answered with another error (4xx/5xx problem), or could not be reached. */
  api: 12,
  /** No token, or the broker refused it (401) or the caller's role (403 `forbidden`). */
  auth: 13,
  /** `jit exec`: the command could not be executed (found, but not runnable); its grant was revoked. As a shell says. */
  cannotExecute: 126,
  /** `jit exec`: the command was not found; its grant was revoked. As a shell says. */
  commandNotFound: 127,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports in one line (no stack trace) and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
    /** Extra lines: the problem's field issues, a hint. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}
