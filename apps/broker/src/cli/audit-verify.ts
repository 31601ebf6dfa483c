/**
 * `npm run audit-verify -- <export.jsonl> --checkpoints <file> --public-key <key.pub.pem>`: the
 * auditor's check, without the broker or its database. Reads an export of the audit log
 * (`GET /v1/audit?format=jsonl`), the signed checkpoints (the JSONL sink file, or the JSON of
 * `GET /v1/audit/checkpoints`) and the public key(s); prints a verdict. Exit 0 intact, 1 broken,
 * 2 misuse (a file missing or unreadable).
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ChainVerifier, CheckpointKeyring, checkpointFromJson, parseCheckpointLines, sortCheckpoints } from '@jit/audit';
import { AUDIT_EVENT_TYPES, AuditCheckpoint, AuditEvent } from '@jit/domain';

class UsageError extends Error {}

const USAGE = `usage: npm run audit-verify -- <export.jsonl | - | archive-dir> --checkpoints <file> --public-key <key.pub.pem> [--json] [--max-breaks N]
  <export.jsonl>    the audit log as GET /v1/audit?format=jsonl returns it, unfiltered ("-" reads standard input)
  <archive-dir>     a directory written by npm run audit-archive: its events.jsonl, with its checkpoints.jsonl
  --checkpoints     signed checkpoints: the JSON Lines sink file, or the JSON of GET /v1/audit/checkpoints (repeatable)
  --public-key      the signing key's public half (PEM); repeat for retired keys
  --json            print the result as JSON
  --max-breaks      breaks listed in detail (default 20; all are counted)`;

function readCheckpoints(file: string): { checkpoints: AuditCheckpoint[]; unreadable: number } {
  const text = readFileSync(file, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return parseCheckpointLines(text); // JSON Lines: the sink file
  }
  const items = (doc as { items?: unknown } | null)?.items;
  if (Array.isArray(items)) return { checkpoints: items.map(checkpointFromJson), unreadable: 0 };
  return parseCheckpointLines(text); // a file of one line
}

/** One exported line back into an event; null when it is not one. */
function toEvent(line: string): AuditEvent | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object') return null;
  const ok =
    Number.isSafeInteger(o.seq) &&
    typeof o.id === 'string' &&
    typeof o.occurredAt === 'string' &&
    !Number.isNaN(Date.parse(o.occurredAt)) &&
    (AUDIT_EVENT_TYPES as readonly unknown[]).includes(o.type) &&
    typeof o.actor === 'string' &&
    typeof o.prevHash === 'string' &&
    typeof o.hash === 'string' &&
    !!o.data &&
    typeof o.data === 'object';
  if (!ok) return null;
  return {
    seq: o.seq as number,
    id: o.id as string,
    occurredAt: new Date(o.occurredAt as string),
    type: o.type as AuditEvent['type'],
    grantId: (o.grantId as string | null) ?? null,
    cloud: (o.cloud as AuditEvent['cloud']) ?? null,
    principal: (o.principal as string | null) ?? null,
    actor: o.actor as string,
    data: o.data as Record<string, unknown>,
    prevHash: o.prevHash as string,
    hash: o.hash as string,
  };
}

export interface OfflineVerdict {
  ok: boolean;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  checkpoints: { total: number; valid: number; unreadable: number; latestSeq: number | null; uncovered: number };
  brokenCount: number;
  breaks: ReturnType<ChainVerifier['breaks']['slice']>;
}

export async function verifyExport(
  lines: AsyncIterable<string>,
  checkpointFiles: string[],
  publicKeyFiles: string[],
  maxBreaks: number,
): Promise<OfflineVerdict> {
  const keyring = new CheckpointKeyring(publicKeyFiles.map((f) => readFileSync(f, 'utf8')));
  const sources: { name: string; items: AuditCheckpoint[] }[] = [];
  let unreadable = 0;
  for (const f of checkpointFiles) {
    const read = readCheckpoints(f);
    sources.push({ name: f, items: read.checkpoints });
    unreadable += read.unreadable;
  }
  const { valid, invalid, total } = sortCheckpoints(keyring, sources);

  let verifier: ChainVerifier | null = null;
  let lineNo = 0;
  let firstSeq: number | null = null;
  let events = 0;
  const start = (first: AuditEvent | null): ChainVerifier => {
    // An export that starts past event 1 is judged from the checkpoint right before it, if one states its predecessor.
    const from = first && first.seq > 1 ? valid.find((c) => c.seq === first.seq - 1 && c.hash === first.prevHash) : undefined;
    const v = new ChainVerifier({ checkpoints: valid, maxReported: maxBreaks, start: from && { seq: from.seq, hash: from.hash } });
    for (const bad of invalid) v.report(bad.seq, null, 'checkpoint', bad.reason);
    return v;
  };
  for await (const line of lines) {
    lineNo++;
    if (!line.trim()) continue;
    const e = toEvent(line);
    verifier ??= start(e);
    if (!e) {
      verifier.report(verifier.lastSeq + 1, null, 'altered', `line ${lineNo} is not an audit event`);
      continue;
    }
    firstSeq ??= e.seq;
    events++;
    verifier.add(e);
  }
  verifier ??= start(null);
  verifier.finish(null);
  const latestSeq = valid.length ? Math.max(...valid.map((c) => c.seq)) : null;
  return {
    ok: verifier.breakCount === 0,
    events,
    firstSeq,
    lastSeq: events ? verifier.lastSeq : null,
    checkpoints: {
      total,
      valid: valid.length,
      unreadable,
      latestSeq,
      uncovered: events ? Math.max(0, verifier.lastSeq - (latestSeq ?? 0)) : 0,
    },
    brokenCount: verifier.breakCount,
    breaks: [...verifier.breaks].sort((a, b) => a.seq - b.seq),
  };
}

function describe(v: OfflineVerdict): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const out: string[] = [];
  out.push(
    `${n(v.events)} events${v.firstSeq !== null ? ` (seq ${v.firstSeq}..${v.lastSeq})` : ''}, ` +
      `${n(v.checkpoints.total)} checkpoints (${n(v.checkpoints.valid)} with a valid signature${v.checkpoints.unreadable ? `, ${v.checkpoints.unreadable} unreadable lines` : ''})`,
  );
  if (v.ok) {
    out.push(
      v.checkpoints.latestSeq === null
        ? 'INTACT as a chain, but no checkpoint covers it: a rewrite of the whole log would not show'
        : `INTACT: every event links to the one before, and the chain has the signed hash at every checkpoint up to seq ${v.checkpoints.latestSeq}`,
    );
    if (v.checkpoints.uncovered) out.push(`note: the last ${n(v.checkpoints.uncovered)} events come after the latest checkpoint and are not yet signed`);
  } else {
    out.push(`BROKEN: ${n(v.brokenCount)} break${v.brokenCount === 1 ? '' : 's'}`);
    for (const b of v.breaks) {
      out.push(`  seq ${b.seq} [${b.kind}] ${b.reason}; ${b.continuesCleanly ? `then intact for ${n(b.intactAfter)} events` : 'not followed by an intact event'}`);
    }
    if (v.brokenCount > v.breaks.length) out.push(`  … and ${n(v.brokenCount - v.breaks.length)} more`);
  }
  return out.join('\n') + '\n';
}

async function* stdinOrFile(path: string): AsyncIterable<string> {
  const input = path === '-' ? process.stdin : createReadStream(path, 'utf8');
  yield* createInterface({ input, crlfDelay: Infinity });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        checkpoints: { type: 'string', multiple: true },
        'public-key': { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        'max-breaks': { type: 'string', default: '20' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one export file (or - for standard input)');
  let source = positionals[0];
  if (source !== '-' && isDirectory(source)) {
    // An archive from npm run audit-archive: its segment, judged from the checkpoints it carries (and any given).
    values.checkpoints = [join(source, 'checkpoints.jsonl'), ...(values.checkpoints ?? [])];
    source = join(source, 'events.jsonl');
  }
  if (!values.checkpoints?.length) throw new UsageError('--checkpoints is required: without them only the chain, not its history, is checked');
  if (!values['public-key']?.length) throw new UsageError('--public-key is required');
  const maxBreaks = Number(values['max-breaks']);
  if (!Number.isInteger(maxBreaks) || maxBreaks < 1) throw new UsageError('--max-breaks must be a positive integer');
  let verdict: OfflineVerdict;
  try {
    verdict = await verifyExport(stdinOrFile(source), values.checkpoints, values['public-key'], maxBreaks);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') throw new UsageError(`${err.path ?? ''}: ${err.code}`);
    if (e instanceof SyntaxError || /PEM|key|checkpoint|seq|hash|signedAt|signature/i.test(err.message)) throw new UsageError(err.message);
    throw e;
  }
  process.stdout.write(values.json ? JSON.stringify(verdict, null, 2) + '\n' : describe(verdict));
  return verdict.ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`audit-verify: ${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError ? USAGE + '\n' : ''}`);
      process.exit(2);
    },
  );
}
