import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { AUDIT_READ_CHAIN_WAIT_MS, Actor, AuditLogUseCase } from '@jit/grants';
import { sendAuditExport } from './audit-export';
import { CurrentActor } from './auth/auth.decorators';
import { toAuditResponse } from './dto/audit-event.response';
import { toCheckpointPage, toVerifyResponse } from './dto/audit-verify.response';
import { ApiJson, ApiQueryFrom, ApiReadProblems } from './dto/openapi-components';
import { auditQuery, checkpointsQuery, parseWith, verifyQuery } from './dto/query.schemas';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLogUseCase) {}

  @Get()
  @ApiOperation({ summary: 'Audit events in order; format=jsonl or csv streams the whole filtered log' })
  @ApiQueryFrom(auditQuery, {
    from: 'occurredAt >= from (RFC 3339)',
    to: 'occurredAt < to (RFC 3339)',
    limit: '1-1000, default 100 (json only)',
    cursor: 'nextCursor of the previous page (json only)',
    format: 'json: one page; jsonl: the whole filtered log, one AuditEvent per line (lossless, to verify or archive); csv: the same for spreadsheets (cells starting =, +, -, @, tab or CR get a leading \'\')',
  })
  @ApiResponse({
    status: 200,
    description: 'format=json: a page of events; jsonl and csv stream the whole filtered log',
    headers: {
      'X-Audit-Staged': {
        description:
          `events committed before the read that are not in it: 0 normally; above 0 when their chaining round was not done within ${AUDIT_READ_CHAIN_WAIT_MS / 1000} s or failed (the read did not wait longer); they appear once chained`,
        schema: { type: 'integer', minimum: 0 },
      },
    },
    content: {
      'application/json': { schema: { $ref: '#/components/schemas/AuditPage' } },
      'application/x-ndjson': { schema: { type: 'string', description: 'one AuditEvent (as in AuditPage.items) per line' } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  @ApiReadProblems(403)
  async list(@CurrentActor() actor: Actor, @Query() query: unknown, @Res() res: Response): Promise<void> {
    const { limit, cursor, format, ...filter } = parseWith(auditQuery, query);
    if (format === 'json') {
      const page = await this.audit.list(actor, filter, limit, cursor ?? null);
      res.setHeader('X-Audit-Staged', String(page.staged));
      res.json({ items: page.items.map(toAuditResponse), nextCursor: page.nextCursor });
      return;
    }
    const exported = await this.audit.export(actor, filter);
    res.setHeader('X-Audit-Staged', String(exported.staged));
    // Streamed with back-pressure (audit-export.ts): what it holds does not grow with the log or a slow client.
    await sendAuditExport(exported.pages, format, res);
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Check the hash chain, streaming: every broken link is counted and the first maxBreaks are listed with reasons and how many intact events follow each. ' +
      'The chain is checked against every signed checkpoint (database and readable sinks) and against heads recorded from earlier verifies, passed as anchor=<seq>:<hash>. ' +
      'By default only the events after the latest valid signed checkpoint are walked; full=true walks every stored event. walk says which, and from where',
  })
  @ApiQueryFrom(verifyQuery, {
    anchor: '<seq>:<hash> of an earlier head; repeatable (up to 100)',
    maxBreaks: '1-1000, default 100: breaks listed in detail (all are counted)',
    full: 'true: walk from genesis (or the archive boundary), not from the latest signed checkpoint',
  })
  @ApiJson(200, 'AuditVerification', 'what the walk found; ok is false on any break')
  @ApiReadProblems(403)
  async verify(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const { anchor, maxBreaks, full } = parseWith(verifyQuery, query);
    return toVerifyResponse(await this.audit.verify(actor, { anchors: anchor, maxBreaks, full }));
  }

  @Get('checkpoints')
  @ApiOperation({
    summary:
      'Signed checkpoints of the chain (Ed25519 over seq, hash, signedAt and keyId), in seq order, with the public key that verifies them; ' +
      'publicKey is null when the broker runs unsigned',
  })
  @ApiQueryFrom(checkpointsQuery, {
    after: 'checkpoints after this event seq (nextAfter of the previous page)',
    limit: '1-1000, default 100',
  })
  @ApiJson(200, 'AuditCheckpointPage', 'a page of checkpoints; nextAfter is null on the last')
  @ApiReadProblems(403)
  async checkpoints(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const { after, limit } = parseWith(checkpointsQuery, query);
    return toCheckpointPage(await this.audit.checkpoints(actor, after, limit + 1), limit);
  }
}
