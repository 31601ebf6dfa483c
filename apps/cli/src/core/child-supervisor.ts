import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** The signals a CI runner or a terminal sends to end a job; forwarded to the child. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface ChildResult {
  /** What the CLI should exit with: the child's code, or 128 + the signal that ended it. */
  exitCode: number;
  /** The child's own exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The first signal the CLI itself received while the child ran, if any. */
  received: ForwardedSignal | null;
}

/** 128 + the signal's number, as a shell reports a process a signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Runs `command` with `args` and `env` on the CLI's stdio (no shell) and resolves when it has
 * ended, however it ends. While it runs, SIGINT, SIGTERM and SIGHUP sent to the CLI are
 * forwarded to it and the CLI itself stays alive, so the caller can clean up (revoke) after
 * the child is gone; the handlers are removed before this resolves. A command that cannot be
 * started (not found, not executable) rejects with the spawn error.
 */
export function superviseChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    let received: ForwardedSignal | null = null;
    const child = spawn(command, args, { env, stdio: 'inherit' });
    const handlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = () => {
        received ??= signal;
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      process.on(signal, handler);
      return () => process.off(signal, handler);
    });
    const done = () => handlers.forEach((off) => off());
    child.once('error', (e) => {
      done();
      reject(e);
    });
    child.once('exit', (code, signal) => {
      done();
      resolve({ exitCode: signal ? signalExitCode(signal) : (code ?? 1), code, signal, received });
    });
  });
}
