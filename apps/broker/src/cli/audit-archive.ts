/**
 * `npm run audit-archive -- --out <dir> --public-key <key.pub.pem> [--retention P90D] [--dry-run]`:
 * moves history out of the database (docs/audit.md, "Archival"). Writes, into a new directory
 * under `--out`, the sealed audit segment (every stored event up to the latest signed checkpoint
 * older than the retention, as `events.jsonl` in the export's format), the checkpoints that sign
 * it (`checkpoints.jsonl`, from the one it starts after), the grants that ended before the
 * retention (`grants.jsonl`, their stored rows) and a manifest with each file's SHA-256. The
 * segment is verified while it is written; only then, and unless `--dry-run`, are those rows
 * removed. The checkpoint stays in the database as the chain's new anchor, so `verify` goes on
 * from it, and the archive is checked offline with `npm run audit-verify`.
 * Reads DATABASE_URL (unset: the embedded database in JIT_DATA_DIR, as the broker does).
 * Exit 0 done (or nothing to archive), 1 the segment does not verify (nothing removed), 2 misuse.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChainBreak, ChainVerifier, CheckpointKeyring, checkpointToJson, sortCheckpoints } from '@jit/audit';
import { AuditCheckpoint, parseIsoDurationSeconds } from '@jit/domain';
import { PostgresArchiveStore, PostgresAuditChainStore, PostgresAuditCheckpointStore, openDatabase } from '@jit/persistence';
import { DataSource } from 'typeorm';
import { toAuditResponse } from '../http/dto/audit-event.response';

class UsageError extends Error {}

const USAGE = `usage: npm run audit-archive -- --out <dir> --public-key <key.pub.pem> [--retention P90D] [--dry-run] [--json]
  --out          directory under which the archive's own directory is made
  --public-key   the signing key's public half (PEM); repeat for retired keys
  --retention    keep events and ended grants younger than this ISO 8601 duration (default P90D)
  --dry-run      write and verify the archive, remove nothing
  --json         print the result as JSON`;

/** Rows per round trip. */
const PAGE = 1000;

export interface ArchiveOptions {
  out: string;
  publicKeysPem: readonly string[];
  retentionSeconds: number;
  dryRun: boolean;
  now: Date;
}

export interface ArchiveResult {
  /** False when the segment did not verify: nothing was removed. */
  ok: boolean;
  /** Null when there was nothing to archive. */
  directory: string | null;
  fromSeq: number | null;
  throughSeq: number | null;
  events: number;
  grants: number;
  removed: { events: number; grants: number };
  breaks: ChainBreak[];
  note: string;
  /** Wall time of writing (and verifying) the files, and of removing the rows. */
  seconds: { write: number; remove: number };
}

/** A file written line by line and synced before the rows it holds are removed; hashed as it is written. */
class SyncedFile {
  private readonly fd: number;
  private readonly sha = createHash('sha256');
  lines = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  write(text: string): void {
    writeSync(this.fd, text);
    this.sha.update(text);
    this.lines++;
  }

  close(): string {
    fsyncSync(this.fd);
    closeSync(this.fd);
    return this.sha.digest('hex');
  }
}

export async function archiveHistory(db: DataSource, options: ArchiveOptions): Promise<ArchiveResult> {
  const chain = new PostgresAuditChainStore(db);
  const store = new PostgresArchiveStore(db);
  const keyring = new CheckpointKeyring(options.publicKeysPem);
  const cutoff = new Date(options.now.getTime() - options.retentionSeconds * 1000);
  const started = performance.now();

  const all: AuditCheckpoint[] = [];
  const checkpoints = new PostgresAuditCheckpointStore(db);
  for (let after = 0; ; ) {
    const page = await checkpoints.list(after, PAGE);
    all.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1].seq;
  }
  const { valid } = sortCheckpoints(keyring, [{ name: 'database', items: all }]);
  const head = await chain.head();
  const firstSeq = (await store.firstSeq()) ?? head.seq + 1;
  // The stored log starts at genesis or right after the checkpoint that sealed the last archive.
  const base = firstSeq > 1 ? valid.find((c) => c.seq === firstSeq - 1) : undefined;
  if (firstSeq > 1 && !base) {
    throw new Error(`the stored log starts at event ${firstSeq}, but no valid signed checkpoint states event ${firstSeq - 1}: run verify`);
  }
  const through = valid
    .filter((c) => c.seq >= firstSeq && c.seq <= head.seq && c.signedAt < cutoff)
    .reduce<AuditCheckpoint | undefined>((best, c) => (!best || c.seq > best.seq ? c : best), undefined);

  const hasGrants = (await store.endedGrants(cutoff, null, 1)).length > 0;
  const empty = {
    ok: true, directory: null, fromSeq: null, throughSeq: null, events: 0, grants: 0, removed: { events: 0, grants: 0 }, breaks: [], seconds: { write: 0, remove: 0 },
  };
  if (!through && !hasGrants) return { ...empty, note: `nothing ended or signed before ${cutoff.toISOString()}` };

  const stamp = options.now.toISOString().replace(/[:.]/g, '-');
  const name = through ? `jit-archive-${firstSeq}-${through.seq}-${stamp}` : `jit-archive-grants-${stamp}`;
  const directory = resolve(options.out, name);
  mkdirSync(directory, { recursive: false, mode: 0o700 });
  const files: Record<string, string> = {};

  // The segment, verified from its anchor as it is written: events.jsonl is what GET /v1/audit?format=jsonl gives.
  let events = 0;
  let breaks: ChainBreak[] = [];
  if (through) {
    const file = new SyncedFile(join(directory, 'events.jsonl'));
    const verifier = new ChainVerifier({
      checkpoints: valid.filter((c) => c.seq <= through.seq),
      maxReported: 100,
      start: base && { seq: base.seq, hash: base.hash },
    });
    outer: for await (const page of chain.stream({ afterSeq: firstSeq - 1 }, PAGE)) {
      for (const e of page) {
        if (e.seq > through.seq) break outer;
        verifier.add(e);
        file.write(JSON.stringify(toAuditResponse(e)) + '\n');
      }
    }
    verifier.finish(through);
    events = file.lines;
    files['events.jsonl'] = file.close();
    breaks = verifier.breaks;
    const signed = new SyncedFile(join(directory, 'checkpoints.jsonl'));
    for (const c of valid.filter((x) => x.seq >= firstSeq - 1 && x.seq <= through.seq).sort((a, b) => a.seq - b.seq)) {
      signed.write(JSON.stringify(checkpointToJson(c)) + '\n');
    }
    files['checkpoints.jsonl'] = signed.close();
  }

  const grantsFile = new SyncedFile(join(directory, 'grants.jsonl'));
  const grantIds: string[] = [];
  for (let after: string | null = null; ; ) {
    const page = await store.endedGrants(cutoff, after, PAGE);
    for (const g of page) grantsFile.write(JSON.stringify(g.row) + '\n');
    grantIds.push(...page.map((g) => g.id));
    if (page.length < PAGE) break;
    after = page[page.length - 1].id;
  }
  files['grants.jsonl'] = grantsFile.close();

  const manifest = {
    type: 'jit-broker.archive.v1',
    createdAt: options.now.toISOString(),
    cutoff: cutoff.toISOString(),
    audit: through ? { fromSeq: firstSeq, throughSeq: through.seq, events, anchor: base ? checkpointToJson(base) : null, seal: checkpointToJson(through) } : null,
    grants: grantIds.length,
    sha256: files,
  };
  const manifestFile = new SyncedFile(join(directory, 'manifest.json'));
  manifestFile.write(JSON.stringify(manifest, null, 2) + '\n');
  manifestFile.close();

  const written = performance.now();
  const seconds = { write: (written - started) / 1000, remove: 0 };
  const result = { directory, fromSeq: through ? firstSeq : null, throughSeq: through?.seq ?? null, events, grants: grantIds.length, breaks, seconds };
  if (breaks.length > 0) {
    return { ...result, ok: false, removed: { events: 0, grants: 0 }, note: 'the segment does not verify: nothing was removed (run verify?full=true)' };
  }
  if (options.dryRun) return { ...result, ok: true, removed: { events: 0, grants: 0 }, note: 'dry run: archive written, nothing removed' };
  let removedGrants = 0;
  for (let i = 0; i < grantIds.length; i += PAGE) removedGrants += await store.removeGrants(grantIds.slice(i, i + PAGE));
  const removedEvents = through
    ? await store.removeEventsThrough(through, { fromSeq: firstSeq, events, grants: removedGrants, location: directory, archivedAt: options.now })
    : 0;
  seconds.remove = (performance.now() - written) / 1000;
  return {
    ...result,
    ok: true,
    removed: { events: removedEvents, grants: removedGrants },
    note: through ? `the chain now starts after the checkpoint at ${through.seq}, which stays in the database` : 'no sealed audit segment older than the retention',
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        'public-key': { type: 'string', multiple: true },
        retention: { type: 'string', default: 'P90D' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (!values.out) throw new UsageError('--out is required');
  if (!values['public-key']?.length) throw new UsageError('--public-key is required: only a segment sealed by a valid signed checkpoint is archived');
  const retentionSeconds = parseIsoDurationSeconds(values.retention);
  if (retentionSeconds === undefined || retentionSeconds <= 0) throw new UsageError('--retention must be an ISO 8601 duration such as P90D');
  let keys: string[];
  try {
    keys = values['public-key'].map((f) => readFileSync(f, 'utf8'));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const db = await openDatabase(process.env.DATABASE_URL || undefined, process.env.JIT_DATA_DIR ?? './data');
  try {
    const r = await archiveHistory(db.dataSource, { out: values.out, publicKeysPem: keys, retentionSeconds, dryRun: values['dry-run'], now: new Date() });
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      process.stdout.write(
        r.directory === null
          ? `${r.note}\n`
          : `${r.directory}: ${r.events} events${r.throughSeq ? ` (seq ${r.fromSeq}..${r.throughSeq})` : ''}, ${r.grants} ended grants; ` +
              `removed ${r.removed.events} events and ${r.removed.grants} grants\n${r.note}\n` +
              r.breaks.map((b) => `  seq ${b.seq} [${b.kind}] ${b.reason}\n`).join(''),
      );
    }
    return r.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`audit-archive: ${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError ? USAGE + '\n' : ''}`);
      process.exit(2);
    },
  );
}
