/**
 * SQLSTATEs that say the server is not there to answer now, not that the statement was wrong:
 * class 08 (connection exception) is matched by prefix; 57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery), 53300 too_many_connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Socket errors of a connection to the database that could not be made or was lost. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * What node-postgres and its pool say, without a code, when the connection went away or never
 * came: the server closed it, the pool's connection timeout (`connectionTimeoutMillis`) passed,
 * or a client that lost its connection was used again.
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Connection terminated due to connection timeout$/,
  // node-postgres' own connect bound (the client's connectionTimeoutMillis, see database.ts).
  /^timeout expired$/,
];

/** How far nested causes are followed (TypeORM's driverError, `cause`, an AggregateError's members). */
const MAX_DEPTH = 4;

/**
 * Whether `error` means the database cannot be reached now (stopped, restarting, unreachable,
 * out of connections), so the same call may well succeed later: the HTTP edge answers 503 with
 * Retry-After instead of 500, and work that failed this way is handed back once the database
 * answers again. A failed statement (a constraint, a syntax error) is not unavailability.
 * Covers pg's server errors (SQLSTATE), socket errors (also for the embedded database's Unix
 * socket: ENOENT or ECONNREFUSED from `connect`) and pg-pool's own messages, through TypeORM's
 * `QueryFailedError.driverError` and `cause` chains.
 */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH || typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; syscall?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (e.code.startsWith('08') && e.code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code)) return true;
    // A Unix socket that is not there (the embedded database's server stopped).
    if (e.code === 'ENOENT' && e.syscall === 'connect') return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isStoreUnavailable(inner, depth + 1))) return true;
  return isStoreUnavailable(e.driverError, depth + 1) || isStoreUnavailable(e.cause, depth + 1);
}
