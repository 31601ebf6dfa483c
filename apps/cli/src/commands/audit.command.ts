import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { AUDIT_EVENT_TYPES, CLOUDS } from '@jit/domain';
import { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { renderTable } from '../output/table';

interface AuditFlags {
  grantId?: string;
  cloud?: string;
  principal?: string;
  actor?: string;
  type?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  format: 'table' | 'csv' | 'jsonl';
}

export function auditCommand(): Command {
  const audit = new Command('audit')
    .description('query the audit log (auditors, admins); csv and jsonl stream the whole filtered export')
    .option('--grant-id <id>', 'events of one grant')
    .addOption(new Option('--cloud <cloud>').choices(CLOUDS))
    .option('--principal <id>', "the principal's id")
    .option('--actor <subject>', 'who acted')
    .addOption(new Option('--type <type>', 'event type').choices(AUDIT_EVENT_TYPES))
    .option('--from <time>', 'at or after (RFC 3339)')
    .option('--to <time>', 'before (RFC 3339)')
    .option('--limit <n>', 'table: at most this many events (1-1000, default 100)')
    .option('--cursor <cursor>', 'table: the next page')
    .addOption(new Option('--format <format>', 'table for people; csv or jsonl stream the export (jsonl is lossless)').choices(['table', 'csv', 'jsonl']).default('table'))
    .action(async (flags: AuditFlags, command: Command) => {
      const ctx = CliContext.of(command);
      const { format, limit, cursor, ...filters } = flags;
      if (format !== 'table') {
        // Streamed as it arrives: memory stays flat however long the log is.
        const body = await ctx.broker.auditExport(filters, format);
        await pipeline(Readable.fromWeb(body), process.stdout, { end: false });
        return;
      }
      const page = await ctx.broker.auditPage({ ...filters, limit, cursor });
      if (ctx.json) return ctx.outJson(page);
      const rows = page.items.map((e) => [
        String(e.seq),
        e.occurredAt,
        e.type,
        e.actor,
        e.grantId ?? '-',
        e.cloud ?? '-',
        e.principal ?? '-',
      ]);
      ctx.out(renderTable(['SEQ', 'TIME', 'TYPE', 'ACTOR', 'GRANT', 'CLOUD', 'PRINCIPAL'], rows));
      if (page.nextCursor) ctx.err(`more: jit audit --cursor ${page.nextCursor}\n`);
    });

  audit
    .command('verify')
    .description('check the hash chain and the signed checkpoints on the broker; exit 1 when anything is broken')
    .option('--full', 'walk every stored event, not only those after the latest signed checkpoint')
    .option('--anchor <seq:hash>', 'a head recorded from an earlier verify (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--max-breaks <n>', 'breaks listed in detail (all are counted)')
    .action(async (flags: { full?: boolean; anchor?: string[]; maxBreaks?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const result = await ctx.broker.auditVerify({ full: flags.full ? 'true' : undefined, maxBreaks: flags.maxBreaks, anchor: flags.anchor });
      process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
      if (ctx.json) return ctx.outJson(result);
      const head = result.head as { seq: number; hash: string } | undefined;
      const paint = ctx.paintOut;
      ctx.out(
        `${result.ok ? paint('green', 'ok') : paint('red', 'BROKEN')}: ${String(result.checked)} events checked, ${String(result.brokenCount)} breaks` +
          (head ? `; head ${head.seq}:${head.hash} (record it, pass it later as --anchor)` : '') +
          '\n',
      );
      for (const b of (result.breaks as { seq: number; kind: string; reason: string }[] | undefined) ?? []) ctx.out(`  ${b.seq} ${b.kind}: ${b.reason}\n`);
    });
  return audit;
}

