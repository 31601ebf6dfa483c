import { Command, Option } from 'commander';
import { CLOUDS, GRANT_STATES } from '@jit/domain';
import { CliContext } from '../cli-context';
import { revokeGrant } from '../core/request-access';
import { approvalsOf } from '../core/grant';
import { CliError, EXIT } from '../exit-codes';
import { endsText, grantText, targetSummary } from '../output/grant-text';
import { renderTable } from '../output/table';
import { stateColour } from '../output/style';

interface ListFlags {
  cloud?: string;
  state?: string;
  principal?: string;
  requester?: string;
  from?: string;
  to?: string;
  awaitingMe?: boolean;
  limit?: string;
  cursor?: string;
}

export function listCommand(): Command {
  return new Command('ls')
    .description('list grants the caller may read, newest first')
    .addOption(new Option('--cloud <cloud>').choices(CLOUDS))
    .addOption(new Option('--state <state>').choices(GRANT_STATES))
    .option('--principal <id>', "the principal's id")
    .option('--requester <subject>', "the requester's subject")
    .option('--from <time>', 'created at or after (RFC 3339)')
    .option('--to <time>', 'created before (RFC 3339)')
    .option('--awaiting-me', 'pending requests I could approve or deny now (approvers)')
    .option('--limit <n>', 'at most this many (1-500, default 50)')
    .option('--cursor <cursor>', 'the next page, from the previous answer')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = CliContext.of(command);
      const { awaitingMe, ...filters } = flags;
      const page = await ctx.broker.listGrants({ ...filters, awaiting: awaitingMe ? 'me' : undefined });
      if (ctx.json) return ctx.outJson(page);
      const now = new Date();
      const rows = page.items.map((g) => {
        const { received, required } = approvalsOf(g);
        return [
          g.id,
          g.state,
          g.target.kind,
          `${g.principal.id}`,
          targetSummary(g.target),
          g.state === 'pending_approval' ? `${received}/${required} approvals` : endsText(g, now),
          g.requestedBy,
        ];
      });
      ctx.out(renderTable(['ID', 'STATE', 'KIND', 'PRINCIPAL', 'TARGET', 'WHEN', 'REQUESTER'], rows, (r, c, t) => (c === 1 ? ctx.paintOut(stateColour(rows[r][1]), t) : t)));
      if (page.nextCursor) ctx.err(`more: jit ls --cursor ${page.nextCursor}\n`);
    });
}

export function showCommand(): Command {
  return new Command('show')
    .description('one grant')
    .argument('<id>', 'grant id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command);
      const grant = await ctx.broker.getGrant(id);
      if (ctx.json) ctx.outJson(grant);
      else ctx.out(grantText(grant, ctx.paintOut));
    });
}

export function approveCommand(): Command {
  return new Command('approve')
    .description('approve a pending request (approvers of its rule; never its requester)')
    .argument('<id>', 'grant id')
    .option('-c, --comment <text>', 'a note for the record')
    .action(async (id: string, flags: { comment?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const grant = await ctx.broker.approve(id, flags.comment);
      if (ctx.json) ctx.outJson(grant);
      else ctx.out(grantText(grant, ctx.paintOut));
    });
}

export function denyCommand(): Command {
  return new Command('deny')
    .description('deny a pending request, with the reason its requester reads')
    .argument('<id>', 'grant id')
    .option('-r, --reason <text>', 'why (required)')
    .option('-c, --comment <text>', 'same as --reason')
    .action(async (id: string, flags: { reason?: string; comment?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const reason = flags.reason ?? flags.comment;
      if (!reason?.trim()) throw new CliError('deny needs --reason <text>: the requester is told why', EXIT.usage);
      const grant = await ctx.broker.deny(id, reason);
      if (ctx.json) ctx.outJson(grant);
      else ctx.out(grantText(grant, ctx.paintOut));
    });
}

export function revokeCommand(): Command {
  return new Command('revoke')
    .description('end a grant early (a pending request is withdrawn)')
    .argument('<id>', 'grant id')
    .option('-r, --reason <text>', 'why, for the audit log')
    .action(async (id: string, flags: { reason?: string }, command: Command) => {
      const ctx = CliContext.of(command);
      const grant = await revokeGrant(ctx.broker, id, flags.reason);
      if (ctx.json) ctx.outJson(grant);
      else ctx.out(grantText(grant, ctx.paintOut));
    });
}
