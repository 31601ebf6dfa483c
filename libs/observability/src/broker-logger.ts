import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { DestinationStream, Logger as Pino } from 'pino';
import { LogRedactor, REDACTED, REDACTED_FIELDS } from './log-redaction';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS = ['json', 'pretty'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface BrokerLoggerOptions {
  level: LogLevelName;
  format: LogFormat;
  /** Scrubs every finished line: known secret values and credential shapes (`LogRedactor`). */
  redactor: LogRedactor;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
}

/**
 * The broker's root logger: one JSON object per line (`level` as a word, `time` in ISO 8601,
 * `context` the component, `msg`), fields that may hold credentials removed by path, and every
 * line scrubbed by the redactor just before it is written. `pretty` writes the same lines as
 * short human-readable text (the sandbox's default).
 */
export function createBrokerLogger(options: BrokerLoggerOptions): Pino {
  const out = options.destination ?? (options.format === 'pretty' ? prettyDestination(process.stdout) : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_FIELDS], censor: REDACTED },
      hooks: { streamWrite: (line) => options.redactor.scrub(line) },
    },
    out,
  );
}

/**
 * What the lines of one unit of work (an HTTP request, a sweeper's grant) carry: the request id,
 * the grant, the actor. The child logger that writes them is made only when a line is written
 * (most requests write none but their summary line), and made again after fields are assigned.
 */
interface LogScope {
  base: Pino;
  fields: Record<string, unknown>;
  logger: Pino | null;
}

const scopes = new AsyncLocalStorage<LogScope>();

/**
 * Runs `fn` with `logger` as the logger of every line written through `ScopedLogger` in its
 * asynchronous continuation, each line carrying `fields` (say, the request id) and those assigned
 * later by `assignLogFields`.
 */
export function runInLogScope<T>(logger: Pino, fn: () => T, fields: Record<string, unknown> = {}): T {
  return scopes.run({ base: logger, fields, logger: null }, fn);
}

/**
 * Adds fields (grant id, actor) to the lines still to come in the current scope, and returns
 * every field assigned so far; outside a scope it does nothing and returns null.
 */
export function assignLogFields(fields: Record<string, unknown>): Record<string, unknown> | null {
  const scope = scopes.getStore();
  if (!scope) return null;
  Object.assign(scope.fields, fields);
  scope.logger = null;
  return scope.fields;
}

/** The fields of the current scope (for the request's summary line). */
export function currentLogFields(): Record<string, unknown> | undefined {
  return scopes.getStore()?.fields;
}

/** The current scope's logger (its fields bound), or `root` outside a scope. */
function scopedLogger(root: Pino): Pino {
  const scope = scopes.getStore();
  if (!scope) return root;
  return (scope.logger ??= Object.keys(scope.fields).length ? scope.base.child(scope.fields) : scope.base);
}

/**
 * Nest's `LoggerService` over pino (structurally: this lib imports no framework), so every
 * `new Logger('Context')` call site of the app writes JSON through the root logger, or through
 * the current scope's child when called while handling a request.
 */
export class ScopedLogger {
  constructor(private readonly root: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    if (!(scopes.getStore()?.base ?? this.root).isLevelEnabled(level)) return;
    const logger = scopedLogger(this.root);
    // Nest appends the logger's context as the last parameter; an error's stack may come before it.
    const rest = [...params];
    const context = rest.length && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    const stack = rest.find((p): p is string => typeof p === 'string' && p.length > 0);
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      logger[level](fields, String(message));
    }
  }
}

/** Standard output as short lines (`HH:MM:SS.mmm LEVEL [context] message key=value ...`) for people. */
export function prettyDestination(out: { write(text: string): unknown }): DestinationStream {
  return { write: (line: string) => out.write(prettyLine(line)) };
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const { time, level, msg, context, pid, hostname, ...rest } = entry;
  void pid;
  void hostname;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${typeof context === 'string' ? `[${context}] ` : ''}${typeof msg === 'string' ? msg : ''}${extra ? `  ${extra}` : ''}\n`;
}
