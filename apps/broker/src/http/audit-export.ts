import { Logger } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuditEvent } from '@jit/domain';
import { toAuditResponse } from './dto/audit-event.response';

const CSV_COLUMNS = ['seq', 'id', 'occurredAt', 'type', 'grantId', 'cloud', 'principal', 'actor', 'data', 'prevHash', 'hash'];

/**
 * A cell that starts with `= + - @`, a tab or a CR (or their full-width forms) gets a leading `'`
 * (OWASP CSV injection), so a spreadsheet shows an actor such as `=HYPERLINK(...)` as text and never
 * runs it. The CSV is therefore for people; the JSON-lines export is the lossless one to verify.
 */
export const CSV_OPTIONS = { header: true, columns: CSV_COLUMNS, escape_formulas: true };

/** Bytes of JSON lines held ahead of the socket; one page more may be in the making. */
const JSONL_BUFFER_BYTES = 64 * 1024;

export type AuditExportFormat = 'jsonl' | 'csv';

const logger = new Logger('AuditExport');

/**
 * Writes the audit pages to `res` as JSON lines or CSV through `pipeline`, so the next page is
 * asked from the database only when the socket has taken the previous one: the memory an export
 * holds is about one page and the stream buffers, whatever the log's size and however slowly the
 * client reads. A client that goes away ends the export and closes the page iterator.
 *
 * The first page is read before anything is sent, so a database that cannot answer still gets a
 * problem answer (rejected here, for the exception filter). A failure after that can only cut the
 * response short: the connection is destroyed, so the client sees a broken transfer rather than a
 * body that looks complete.
 */
export async function sendAuditExport(pages: AsyncIterable<AuditEvent[]>, format: AuditExportFormat, res: ServerResponse): Promise<void> {
  const iterator = pages[Symbol.asyncIterator]();
  const first = await iterator.next();

  res.statusCode = 200;
  res.setHeader('Cache-Control', 'no-store');
  if (format === 'jsonl') {
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  } else {
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
  }

  async function* allPages(): AsyncGenerator<AuditEvent[]> {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  }

  try {
    if (format === 'jsonl') {
      await pipeline(Readable.from(jsonLines(allPages()), { objectMode: false, highWaterMark: JSONL_BUFFER_BYTES }), res);
    } else {
      await pipeline(Readable.from(csvRecords(allPages())), stringify(CSV_OPTIONS), res);
    }
  } catch (error) {
    if (res.destroyed && isClientGone(error)) return;
    // Headers and part of the body are out: nothing to answer with any more, only to record.
    logger.warn(`audit export (${format}) cut short: ${error instanceof Error ? error.message : String(error)}`);
    res.destroy();
  }
}

async function* jsonLines(pages: AsyncIterable<AuditEvent[]>): AsyncGenerator<string> {
  for await (const page of pages) {
    let chunk = '';
    for (const e of page) chunk += `${JSON.stringify(toAuditResponse(e))}\n`;
    yield chunk;
  }
}

async function* csvRecords(pages: AsyncIterable<AuditEvent[]>): AsyncGenerator<Record<string, unknown>> {
  for await (const page of pages) {
    for (const e of page) {
      const row = toAuditResponse(e);
      yield { ...row, data: JSON.stringify(row.data) };
    }
  }
}

function isClientGone(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}
