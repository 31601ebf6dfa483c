/**
 * `npm run siem-to-jsonl -- <records.ndjson | -> [--out audit.jsonl]`: turns audit records as a
 * SIEM returns them (the OCSF records the broker streamed, one JSON per line, bare or wrapped as
 * Splunk's `event`/`result._raw`, Elastic's `_source`, or a syslog line) back into the export's
 * JSON Lines, in seq order with duplicates (an at-least-once resend) removed, for
 * `npm run audit-verify`. Exit 0, 1 when two records give one seq different contents, 2 misuse.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ExportedAuditEvent, auditEventFromSiemRecord } from '@jit/notifications';

export interface SiemConversion {
  events: ExportedAuditEvent[];
  /** Lines that held no audit event (headers, other data). */
  skipped: number;
  /** Records seen more than once with the same hash (resends). */
  duplicates: number;
  /** Seqs given two different events: the SIEM copy itself was altered. */
  conflicts: number[];
}

export async function convertSiemRecords(lines: AsyncIterable<string> | Iterable<string>): Promise<SiemConversion> {
  const bySeq = new Map<number, ExportedAuditEvent>();
  let skipped = 0;
  let duplicates = 0;
  const conflicts: number[] = [];
  for await (const line of lines) {
    if (!line.trim()) continue;
    let parsed: unknown = line;
    try {
      parsed = JSON.parse(line);
    } catch {
      // a syslog line: the record follows its header
    }
    const event = auditEventFromSiemRecord(parsed);
    if (!event) {
      skipped++;
      continue;
    }
    const seen = bySeq.get(event.seq);
    if (!seen) bySeq.set(event.seq, event);
    else if (seen.hash === event.hash && JSON.stringify(seen) === JSON.stringify(event)) duplicates++;
    else conflicts.push(event.seq);
  }
  const events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return { events, skipped, duplicates, conflicts };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: npm run siem-to-jsonl -- <records.ndjson | -> [--out audit.jsonl]\n');
    return 2;
  }
  const input = positionals[0] === '-' ? process.stdin : createReadStream(positionals[0], 'utf8');
  const result = await convertSiemRecords(createInterface({ input, crlfDelay: Infinity }));
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  for (const e of result.events) out.write(`${JSON.stringify(e)}\n`);
  if (values.out) await new Promise<void>((resolve) => out.end(resolve));
  const first = result.events[0]?.seq;
  const last = result.events[result.events.length - 1]?.seq;
  process.stderr.write(
    `${result.events.length} events${first === undefined ? '' : ` (seq ${first}..${last})`}, ${result.duplicates} duplicate(s) removed, ${result.skipped} line(s) without an event\n`,
  );
  if (result.conflicts.length) {
    process.stderr.write(`CONFLICT: seq ${result.conflicts.slice(0, 20).join(', ')} carried two different events\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`siem-to-jsonl: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
