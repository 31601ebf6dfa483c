import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import type { DiscoveryScan } from '@jit/client';
import { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { renderTable } from '../output/table';

const short = (s: string | null | undefined, n = 48) => (!s ? '-' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : '-');

function scanText(s: DiscoveryScan): string {
  const rows = s.clouds.map((c) => [c.cloud, c.listed ? `${c.partsDone}/${c.parts}` : 'not listed', String(c.partsFailed), String(c.pages), String(c.assignments), short(c.error ?? s.parts.find((p) => p.cloud === c.cloud && p.lastError)?.lastError, 60)]);
  return `scan ${s.id}: ${s.state} (${s.trigger}, by ${s.requestedBy}, ${s.createdAt}${s.finishedAt ? ` to ${s.finishedAt}` : ''})\n${renderTable(['CLOUD', 'PARTS DONE', 'FAILED', 'PAGES', 'ASSIGNMENTS', 'LAST ERROR'], rows)}`;
}

/** `jit discovery`: standing access in the clouds, findings, the summary, removals (docs/discovery.md). */
export function discoveryCommand(): Command {
  const discovery = new Command('discovery').description('standing access in the clouds: scans, findings with a proposed rule, the summary, removals (docs/discovery.md)');

  discovery
    .command('scan')
    .description('start a scan of every configured cloud (admins, auditors); the running one if a scan runs')
    .option('--wait', 'wait until it ends and print its progress')
    .action(async (flags: { wait?: boolean }, command: Command) => {
      const ctx = CliContext.of(command);
      let scan = await ctx.broker.discovery.scan();
      while (flags.wait && scan.state === 'running') {
        await sleep(1000);
        scan = await ctx.broker.discovery.getScan(scan.id);
      }
      if (ctx.json) return ctx.outJson(scan);
      ctx.out(`${scanText(scan)}`);
      if (scan.state === 'running') ctx.err(`progress: jit discovery status ${scan.id}\n`);
    });

  discovery
    .command('status')
    .description('a scan\'s progress per cloud: parts, pages, assignments, errors')
    .argument('<scan>', 'the scan id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const scan = await ctx.broker.discovery.getScan(id);
      if (ctx.json) return ctx.outJson(scan);
      ctx.out(scanText(scan));
    });

  discovery
    .command('findings')
    .description('findings, filtered (admins, auditors); --format csv or jsonl streams every match')
    .addOption(new Option('--cloud <cloud>').choices(['aws', 'azure', 'gcp']))
    .option('--privileged', 'only privileged assignments')
    .option('--unused-for <days>', 'only those never used or not used for this many days')
    .option('--principal-type <type>', 'human, workload, or the cloud\'s kind (user, group, role, service_principal, managed_identity, service_account)')
    .addOption(new Option('--status <status>').choices(['open', 'resolved', 'removed']))
    .option('--scope <glob>', 'glob on the scope (aws:<account>, an ARM scope, projects/<id>)')
    .option('--access <glob>', 'glob on the role or policy name')
    .addOption(new Option('--format <format>').choices(['table', 'csv', 'jsonl']).default('table'))
    .option('--limit <n>', '1-500, default 100')
    .option('--cursor <cursor>', 'the next page')
    .action(async (flags: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = CliContext.of(command);
      const query = {
        cloud: flags.cloud as string | undefined,
        privileged: flags.privileged ? 'true' : undefined,
        unusedFor: flags.unusedFor as string | undefined,
        principalType: flags.principalType as string | undefined,
        status: flags.status as string | undefined,
        scope: flags.scope as string | undefined,
        access: flags.access as string | undefined,
      };
      if (flags.format === 'csv' || flags.format === 'jsonl') {
        const body = await ctx.broker.discovery.findingsExport(query, flags.format);
        await pipeline(Readable.fromWeb(body as never), process.stdout, { end: false });
        return;
      }
      const page = await ctx.broker.discovery.findings({ ...query, limit: flags.limit, cursor: flags.cursor });
      if (ctx.json) return ctx.outJson(page);
      const rows = page.items.map((f) => [
        f.id,
        f.cloud,
        f.privileged ? 'yes' : 'no',
        f.status,
        short(f.principal.displayName ?? f.principal.id, 40),
        f.principal.human === null ? '?' : f.principal.human ? 'human' : 'workload',
        short(f.access.name, 32),
        short(f.scope, 36),
        f.neverUsed ? 'never' : day(f.lastUsedAt),
      ]);
      ctx.out(renderTable(['ID', 'CLOUD', 'PRIV', 'STATUS', 'WHO', 'HOLDER', 'ACCESS', 'SCOPE', 'LAST USED'], rows));
      if (page.nextCursor) ctx.err(`more: jit discovery findings --cursor ${page.nextCursor}\n`);
    });

  discovery
    .command('show')
    .description('one finding: why it is privileged, its use, its history, and the proposed rules-file entry')
    .argument('<finding>', 'the finding id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const d = await ctx.broker.discovery.finding(id);
      if (ctx.json) return ctx.outJson(d);
      const f = d.finding;
      ctx.out(
        [
          `${f.cloud} ${f.access.name} (${f.access.type}) on ${f.scope}`,
          `holder: ${f.principal.id} (${f.principal.kind}${f.principal.human === null ? '' : f.principal.human ? ', human' : ', workload'})`,
          `status: ${f.status}; privileged: ${f.privileged ? f.reasons.join('; ') : 'no'}`,
          `last used: ${f.neverUsed ? 'never' : (f.lastUsedAt ?? 'unknown')}${f.unusedDays !== null ? ` (${f.unusedDays} days)` : ''}`,
          ...(f.usage ? [`unused of what was granted (${f.usage.periodDays} days): ${f.usage.unused.join(', ') || 'none'}`] : []),
          `history: ${d.history.map((h) => `${h.change} ${day(h.at)}`).join(', ')}`,
          ...d.removals.map((r) => `removal ${r.id}: ${r.state} (asked by ${r.requestedBy})`),
          '',
          `proposed rule (${d.proposedRule.accepted ? 'accepted by the rules checker' : `refused: ${d.proposedRule.issues.join('; ')}`}${d.proposedRule.narrowed ? ', narrowed to what was used' : ''}):`,
          ...d.proposedRule.notes.map((n) => `  note: ${n}`),
          '',
          d.proposedRule.file,
        ].join('\n'),
      );
    });

  discovery
    .command('summary')
    .description('per cloud: standing privileged assignments, of them unused, humans and workloads')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const s = await ctx.broker.discovery.summary();
      if (ctx.json) return ctx.outJson(s);
      const rows = s.clouds.map((c) => [c.cloud, String(c.open), String(c.privileged), String(c.privilegedUnused), String(c.privilegedHumans), String(c.privilegedWorkloads), String(c.privilegedUnknown)]);
      ctx.out(renderTable(['CLOUD', 'OPEN', 'PRIVILEGED', `UNUSED ${s.unusedDays}D`, 'HUMANS', 'WORKLOADS', 'UNKNOWN'], rows));
      ctx.err(s.lastScan ? `last scan ${s.lastScan.id}: ${s.lastScan.state}, ${s.lastScan.createdAt}\n` : 'no scan yet: jit discovery scan --wait\n');
    });

  discovery
    .command('remove')
    .description('ask to remove a finding\'s standing assignment (admin); another admin approves it')
    .argument('<finding>', 'the finding id')
    .requiredOption('--justification <text>', 'why (recorded in the audit log)')
    .action(async (id: string, flags: { justification: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const r = await ctx.broker.discovery.requestRemoval(id, flags.justification);
      if (ctx.json) return ctx.outJson(r);
      ctx.out(`removal ${r.id}: ${r.state}, ${r.required} approval(s) needed: jit discovery approve ${r.id}\n`);
    });

  discovery
    .command('approve')
    .description('approve a removal (not your own); the last approval applies it')
    .argument('<removal>', 'the removal id')
    .option('--comment <text>', 'a comment')
    .action(async (id: string, flags: { comment?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const r = await ctx.broker.discovery.approveRemoval(id, flags.comment);
      if (ctx.json) return ctx.outJson(r);
      ctx.out(`removal ${r.id}: ${r.state}${r.lastError ? ` (${r.lastError})` : ''}\n`);
      if (r.state === 'failed') process.exitCode = EXIT.failed;
    });

  discovery
    .command('deny')
    .description('deny a removal')
    .argument('<removal>', 'the removal id')
    .requiredOption('--comment <text>', 'why')
    .action(async (id: string, flags: { comment: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const r = await ctx.broker.discovery.denyRemoval(id, flags.comment);
      if (ctx.json) return ctx.outJson(r);
      ctx.out(`removal ${r.id}: ${r.state}\n`);
    });

  discovery
    .command('restore')
    .description('put an applied removal\'s assignment back (admin)')
    .argument('<removal>', 'the removal id')
    .option('--justification <text>', 'why')
    .action(async (id: string, flags: { justification?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const r = await ctx.broker.discovery.restoreRemoval(id, flags.justification);
      if (ctx.json) return ctx.outJson(r);
      ctx.out(`removal ${r.id}: ${r.state}\n`);
    });

  return discovery;
}
