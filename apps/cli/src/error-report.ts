import { CommanderError } from 'commander';
import { BrokerError } from './core/broker-api';
import { CliError, EXIT } from './exit-codes';

/** The exit code for a failure, and the lines that say what went wrong (never a stack trace unless `debug`). */
export function reportOf(e: unknown, debug: boolean): { code: number; lines: string[]; json: unknown } {
  if (e instanceof CliError) {
    return { code: e.code, lines: [e.message, ...e.details.map((d) => `  ${d}`)], json: { error: e.message, details: e.details } };
  }
  if (e instanceof BrokerError) {
    const where = e.status === 0 ? e.title : `${e.title} (${e.status} ${e.code})`;
    const lines = [`${where}: ${e.detail}`, ...e.errors.map((i) => `  ${i.field}: ${i.message}`)];
    const decision = e.problem.decision as { rule?: string | null; reason?: string } | undefined;
    if (decision?.rule) lines.push(`  decided by rule ${decision.rule}`);
    return { code: exitCodeOf(e), lines, json: { error: e.problem.type ? e.problem : { status: e.status, title: e.title, detail: e.detail } } };
  }
  if (e instanceof CommanderError) return { code: EXIT.usage, lines: [], json: { error: e.message } };
  const error = e as Error;
  return {
    code: EXIT.failed,
    lines: [debug && error?.stack ? error.stack : `${error?.message ?? String(e)} (run with --debug for details)`],
    json: { error: error?.message ?? String(e) },
  };
}

export function exitCodeOf(e: BrokerError): number {
  if (e.status === 401 || (e.status === 403 && e.code === 'forbidden')) return EXIT.auth;
  if (e.status === 403 && e.code === 'policy_denied') return EXIT.denied;
  return EXIT.api;
}
