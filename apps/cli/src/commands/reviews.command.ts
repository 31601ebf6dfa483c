import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ReviewDecisionBody } from '@jit/client';
import { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { renderTable } from '../output/table';

const short = (s: string | null | undefined, n = 48) => (!s ? '-' : s.length > n ? `${s.slice(0, n - 1)}…` : s);
const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : '-');

interface DecideFlags {
  keep?: boolean;
  remove?: boolean;
  narrow?: boolean;
  justification: string;
  maxDuration?: string;
  keepTargets?: string;
  campaign?: string;
}

/** `jit reviews`: access review campaigns, their items, decisions and the report (docs/reviews.md). */
export function reviewsCommand(): Command {
  const reviews = new Command('reviews').description('access reviews: campaigns, items to decide, decisions, the report (docs/reviews.md)');

  reviews
    .command('ls')
    .description('campaigns, newest first (admins, auditors, approvers)')
    .addOption(new Option('--state <state>').choices(['open', 'closed']))
    .option('--definition <name>', 'campaigns of one definition')
    .option('--limit <n>', '1-500, default 50')
    .option('--cursor <cursor>', 'the next page')
    .action(async (flags: { state?: string; definition?: string; limit?: string; cursor?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const page = await ctx.broker.reviews.campaigns(flags);
      if (ctx.json) return ctx.outJson(page);
      const rows = page.items.map((c) => [c.id, c.definition, c.state + (c.overdue ? ' (overdue)' : ''), day(c.startedAt), day(c.endsAt), `${c.counts.decided}/${c.counts.total}`, c.defaultDecision]);
      ctx.out(renderTable(['ID', 'DEFINITION', 'STATE', 'STARTED', 'ENDS', 'DECIDED', 'DEFAULT'], rows));
      if (page.nextCursor) ctx.err(`more: jit reviews ls --cursor ${page.nextCursor}\n`);
    });

  reviews
    .command('start')
    .description('start a campaign now from its definition (admin)')
    .argument('<definition>', 'the definition\'s name (JIT_REVIEWS_FILE or defined through the API)')
    .action(async (definition: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const c = await ctx.broker.reviews.start(definition);
      if (ctx.json) return ctx.outJson(c);
      ctx.out(`started ${c.id}: ${c.counts.total} items, reviewers decide before ${c.endsAt} (default: ${c.defaultDecision})\n`);
    });

  reviews
    .command('items')
    .description('a campaign\'s items: a reviewer sees those their groups decide; admins and auditors all')
    .argument('<campaign>', 'the campaign id')
    .option('--pending', 'only items not decided yet')
    .addOption(new Option('--source <source>').choices(['standing', 'eligibility']))
    .option('--limit <n>', '1-500, default 50')
    .option('--cursor <cursor>', 'the next page')
    .action(async (campaign: string, flags: { pending?: boolean; source?: string; limit?: string; cursor?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const page = await ctx.broker.reviews.items(campaign, { decided: flags.pending ? 'false' : undefined, source: flags.source, limit: flags.limit, cursor: flags.cursor });
      if (ctx.json) return ctx.outJson(page);
      const rows = page.items.map((i) => [
        i.id,
        i.source,
        short(i.principal, 40),
        short(i.access, 32),
        short(i.scope, 32),
        day(i.since),
        day(i.lastUsedAt),
        `${i.requested}/${i.granted}`,
        i.decision ? `${i.decision}${i.defaulted ? ' (default)' : ''}` : '-',
      ]);
      ctx.out(renderTable(['ID', 'SOURCE', 'WHO', 'WHAT', 'WHERE', 'SINCE', 'LAST USED', 'REQ/GRANTED', 'DECISION'], rows));
      if (page.nextCursor) ctx.err(`more: jit reviews items ${campaign} --cursor ${page.nextCursor}\n`);
    });

  reviews
    .command('decide')
    .description('decide one item, or many of one campaign with --campaign (keep, remove or narrow, with a justification)')
    .argument('<items...>', 'item ids')
    .option('--keep', 'keep the access')
    .option('--remove', 'remove it (a standing assignment through discovery\'s removal; an eligibility entry in the rules patch)')
    .option('--narrow', 'narrow a rule\'s eligibility: --max-duration and/or --keep-targets')
    .requiredOption('--justification <text>', 'why (recorded in the audit log and the report)')
    .option('--max-duration <duration>', 'narrow: a shorter maximum, ISO 8601 (PT4H)')
    .option('--keep-targets <indexes>', 'narrow: the rule\'s targets to keep, 0-based, comma-separated')
    .option('--campaign <id>', 'the campaign, to decide several items in one request')
    .action(async (items: string[], flags: DecideFlags, command: Command) => {
      const ctx = CliContext.of(command);
      const chosen = (['keep', 'remove', 'narrow'] as const).filter((d) => flags[d]);
      if (chosen.length !== 1) {
        ctx.err('give exactly one of --keep, --remove, --narrow\n');
        process.exitCode = EXIT.usage;
        return;
      }
      const body: ReviewDecisionBody = { decision: chosen[0], justification: flags.justification };
      if (flags.maxDuration || flags.keepTargets) {
        body.narrowing = {
          ...(flags.maxDuration && { maxDuration: flags.maxDuration }),
          ...(flags.keepTargets && { keepTargets: flags.keepTargets.split(',').map((s) => Number(s.trim())) }),
        };
      }
      if (items.length === 1 && !flags.campaign) {
        const item = await ctx.broker.reviews.decide(items[0], body);
        if (ctx.json) return ctx.outJson(item);
        ctx.out(`${item.id}: ${item.decision} (${item.applied ?? 'nothing applied'})\n`);
        return;
      }
      if (!flags.campaign) {
        ctx.err('several items: name their campaign with --campaign\n');
        process.exitCode = EXIT.usage;
        return;
      }
      const result = await ctx.broker.reviews.decideMany(flags.campaign, { ...body, itemIds: items });
      if (ctx.json) return ctx.outJson(result);
      ctx.out(renderTable(['ITEM', 'OUTCOME', 'DETAIL'], result.results.map((r) => [r.itemId, r.outcome, r.outcome === 'decided' ? (r.item?.applied ?? '-') : `${r.status ?? ''}: ${r.detail ?? ''}`])));
      if (result.results.some((r) => r.outcome === 'refused')) process.exitCode = EXIT.failed;
    });

  reviews
    .command('report')
    .description('the campaign report (admins, auditors): CSV, or a printable HTML page to file')
    .argument('<campaign>', 'the campaign id')
    .addOption(new Option('--format <format>').choices(['csv', 'html']).default('csv'))
    .option('--output <file>', 'write it to a file instead of stdout')
    .action(async (campaign: string, flags: { format: 'csv' | 'html'; output?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const text = await ctx.broker.reviews.report(campaign, flags.format);
      if (flags.output) {
        writeFileSync(flags.output, text);
        ctx.err(`wrote ${flags.output}\n`);
      } else ctx.out(text);
    });

  reviews
    .command('patch')
    .description('the rules-file patch the campaign\'s eligibility decisions call for (unified diff; apply it with git apply or patch -p1)')
    .argument('<campaign>', 'the campaign id')
    .action(async (campaign: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const p = await ctx.broker.reviews.rulesPatch(campaign);
      // The diff on stdout (to pipe into git apply); what it applies to and what it left out on stderr.
      if (p.rulesVersion) ctx.err(`rules version: ${p.rulesVersion}\n`);
      for (const s of p.skipped) ctx.err(`skipped ${s.itemId}: ${s.reason}\n`);
      ctx.out(p.patch);
    });
  return reviews;
}
