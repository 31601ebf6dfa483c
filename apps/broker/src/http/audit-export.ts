import { Logger } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import type { ServerResponse } from 'node:http';
import type { AuditEvent } from '@jit/domain';
import { toAuditResponse } from './dto/audit-event.response';

const CSV_COLUMNS = ['seq', 'id', 'occurredAt', 'type', 'grantId', 'cloud', 'principal', 'actor', 'data', 'prevHash', 'hash'];

/**
 * A cell that starts with `= + - @`, a tab or a CR (or their full-width forms) gets a leading `'`
 * (OWASP CSV injection), so a spreadsheet shows an actor such as `=HYPERLINK(...)` as text and never
 * runs it. The CSV is therefore for people; the JSON-lines export is the lossless one to verify.
 */
export const CSV_OPTIONS = { header: true, columns: CSV_COLUMNS, escape_formulas: true };

export type AuditExportFormat = 'jsonl' | 'csv';

const logger = new Logger('AuditExport');

/**
 * Writes the audit pages to `res` as JSON lines or CSV, 50 events at a time: they are taken out of
 * the page, turned into one string and written, and the next page is asked from the database
 * only once the socket has taken the last (`write` returning false waits for `drain`). What an
 * export holds is about one page and the socket's buffer, whatever the log's size and however
 * slowly the client reads; a client that goes away ends the export and closes the page iterator,
 * so no further page is read.
 *
 * Deliberately a plain loop rather than a chain of async generators into `stream.pipeline`: each
 * generator frame and `yield*` kept the page before last reachable while the next one was read,
 * CSV through the streaming stringifier kept a page alive across thousands of per-record stream
 * steps, and a page's 630 KB string went to V8's large-object space, promoted at its first
 * scavenge; all of that reached the old generation, which grows to a few hundred MB before it is
 * collected (docs/benchmarks.md, "Audit export").
 *
 * The first page is read before anything is sent, so a database that cannot answer still gets a
 * problem answer (rejected here, for the exception filter). A failure after that can only cut the
 * response short: the connection is destroyed, so the client sees a broken transfer rather than a
 * body that looks complete.
 */
export async function sendAuditExport(pages: AsyncIterable<AuditEvent[]>, format: AuditExportFormat, res: ServerResponse): Promise<void> {
  const iterator = pages[Symbol.asyncIterator]();
  let next: IteratorResult<AuditEvent[]> | undefined = await iterator.next();

  res.statusCode = 200;
  res.setHeader('Cache-Control', 'no-store');
  if (format === 'jsonl') {
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  } else {
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
  }

  let header = true;
  try {
    while (!next.done) {
      const page = next.value;
      next = undefined;
      // A slice at a time, taken out of the page (the store hands it over): each event is garbage
      // once its slice is written, and each string stays well under V8's 128 KB large-object size.
      while (page.length > 0) {
        const events = page.splice(0, SLICE);
        const chunk = format === 'jsonl' ? jsonLines(events) : csvLines(events, header);
        header = false;
        if (res.destroyed) throw clientGone();
        // Awaited only when the socket's buffer is full: a promise per slice is garbage too.
        if (!res.write(chunk)) await drained(res);
      }
      next = await iterator.next();
    }
    // An empty CSV export still has its header line, as a spreadsheet expects.
    if (format === 'csv' && header) res.write(csvLines([], true));
    res.end();
  } catch (error) {
    if (isClientGone(error)) return;
    // Headers and part of the body are out: nothing to answer with any more, only to record.
    logger.warn(`audit export (${format}) cut short: ${error instanceof Error ? error.message : String(error)}`);
    res.destroy();
  } finally {
    // Ends the page source's query loop when the export stopped early (a no-op once it is done).
    await iterator.return?.();
  }
}

/** Events turned into one string and written at a time: about 33 KB of JSON lines or 28 KB of CSV. */
const SLICE = 50;

function jsonLines(events: readonly AuditEvent[]): string {
  let chunk = '';
  for (const e of events) chunk += `${JSON.stringify(toAuditResponse(e))}\n`;
  return chunk;
}

function csvLines(events: readonly AuditEvent[], header: boolean): string {
  const rows = events.map((e) => {
    const row = toAuditResponse(e);
    return { ...row, data: JSON.stringify(row.data) };
  });
  return stringify(rows, { ...CSV_OPTIONS, header });
}

const CLIENT_GONE = 'ERR_STREAM_PREMATURE_CLOSE';

/** Resolves once the socket's buffer has drained; rejects if the client went away first. */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.reject(clientGone());
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(clientGone());
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function clientGone(): Error {
  return Object.assign(new Error('the client closed the connection during the audit export'), { code: CLIENT_GONE });
}

function isClientGone(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === CLIENT_GONE || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}
