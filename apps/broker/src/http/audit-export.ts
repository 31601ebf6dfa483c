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
 * Writes the audit pages to `res` as JSON lines or CSV, one page at a time: a page is turned into
 * one string, the page is let go, the string is written, and the next page is asked from the
 * database only once the socket has taken it (`write` returning false waits for `drain`). What an
 * export holds is about one page and the socket's buffer, whatever the log's size and however
 * slowly the client reads; a client that goes away ends the export and closes the page iterator,
 * so no further page is read.
 *
 * Deliberately a plain loop rather than a chain of async generators into `stream.pipeline`: each
 * generator frame and `yield*` kept the page before last reachable while the next one was read,
 * and CSV through the streaming stringifier kept a page alive across thousands of per-record
 * stream steps, long enough for V8 to move it to the old generation, which grows to a few hundred
 * MB before it is collected (docs/benchmarks.md, "Audit export").
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
      let chunk: string;
      if (format === 'jsonl') {
        chunk = jsonLines(next.value);
      } else {
        chunk = csvLines(next.value, header);
        header = false;
      }
      next = undefined;
      await write(res, chunk);
      next = await iterator.next();
    }
    // An empty CSV export still has its header line, as a spreadsheet expects.
    if (format === 'csv' && header) await write(res, csvLines([], true));
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

/** The page's JSON lines; the page is emptied (the store hands it over), so a stale reference to it holds no events. */
function jsonLines(page: AuditEvent[]): string {
  let chunk = '';
  for (const e of page) chunk += `${JSON.stringify(toAuditResponse(e))}\n`;
  page.length = 0;
  return chunk;
}

/** Events the CSV stringifier takes at a time. */
const CSV_SLICE = 100;

/**
 * The page's CSV lines. The stringifier allocates several KB per record, so the page is taken out
 * of its array a slice at a time (the store hands the page over): each event is then garbage as
 * soon as its slice is written, instead of living, with the whole page, across the young
 * generation's collections until it is promoted.
 */
function csvLines(page: AuditEvent[], header: boolean): string {
  let chunk = '';
  do {
    const rows = page.splice(0, CSV_SLICE).map((e) => {
      const row = toAuditResponse(e);
      return { ...row, data: JSON.stringify(row.data) };
    });
    chunk += stringify(rows, { ...CSV_OPTIONS, header });
    header = false;
  } while (page.length > 0);
  return chunk;
}

const CLIENT_GONE = 'ERR_STREAM_PREMATURE_CLOSE';

/** Writes `chunk`; when the socket's buffer is full, resolves once it has drained, and rejects if the client went away first. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed) return Promise.reject(clientGone());
  if (res.write(chunk)) return Promise.resolve();
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
