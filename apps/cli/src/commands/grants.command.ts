import { Command, Option } from 'commander';
import { CLOUDS, GRANT_STATES } from '@jit/domain';
import { CliContext } from '../cli-context';
import { revokeGrant } from '../core/request-access';
import { GrantView, approvalsOf } from '../core/grant';
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
      if (page.items.length === 0) {
        ctx.err("no grants match (a requester's token sees only its own grants)\n");
        return;
      }
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

/** A command on one grant by id: `act` does it and answers the grant, printed as JSON (`--json`) or as text. */
function oneGrantCommand<F>(name: string, description: string, act: (ctx: CliContext, id: string, flags: F) => Promise<GrantView>): Command {
  return new Command(name)
    .description(description)
    .argument('<id>', 'grant id')
    .action(async (id: string, flags: F, command: Command) => {
      const ctx = CliContext.of(command);
      const grant = await act(ctx, id, flags);
      if (ctx.json) ctx.outJson(grant);
      else ctx.out(grantText(grant, ctx.paintOut));
    });
}

export function showCommand(): Command {
  return oneGrantCommand('show', 'one grant', (ctx, id) => ctx.broker.getGrant(id));
}

export function approveCommand(): Command {
  return oneGrantCommand<{ comment?: string }>('approve', 'approve a pending request (approvers of its rule; never its requester)', (ctx, id, flags) =>
    ctx.broker.approve(id, flags.comment),
  ).option('-c, --comment <text>', 'a note for the record');
}

export function denyCommand(): Command {
  return oneGrantCommand<{ reason?: string; comment?: string }>('deny', 'deny a pending request, with the reason its requester reads', (ctx, id, flags) => {
    const reason = flags.reason ?? flags.comment;
    if (!reason?.trim()) throw new CliError('deny needs --reason <text>: the requester is told why', EXIT.usage);
    return ctx.broker.deny(id, reason);
  })
    .option('-r, --reason <text>', 'why (required)')
    .option('-c, --comment <text>', 'same as --reason');
}

export function revokeCommand(): Command {
  return oneGrantCommand<{ reason?: string }>('revoke', 'end a grant early (a pending request is withdrawn)', (ctx, id, flags) =>
    revokeGrant(ctx.broker, id, flags.reason),
  ).option('-r, --reason <text>', 'why, for the audit log');
}
