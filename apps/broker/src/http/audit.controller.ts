import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { checkpointToJson } from '@jit/audit';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { sendAuditExport } from './audit-export';
import { CurrentActor } from './auth/auth.decorators';
import { toAuditResponse } from './dto/audit-event.response';
import { auditQuery, checkpointsQuery, parseWith, verifyQuery } from './dto/query.schemas';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLogUseCase) {}

  @Get()
  @ApiOperation({ summary: 'Audit events in order; format=jsonl or csv streams the whole filtered log' })
  @ApiQuery({ name: 'grantId', required: false })
  @ApiQuery({ name: 'cloud', required: false })
  @ApiQuery({ name: 'principal', required: false })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'type', required: false })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100 (json only)' })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'jsonl', 'csv'] })
  async list(@CurrentActor() actor: Actor, @Query() query: unknown, @Res() res: Response): Promise<void> {
    const { limit, cursor, format, ...filter } = parseWith(auditQuery, query);
    if (format === 'json') {
      const page = await this.audit.list(actor, filter, limit, cursor ?? null);
      res.json({ items: page.items.map(toAuditResponse), nextCursor: page.nextCursor });
      return;
    }
    // Streamed with back-pressure (audit-export.ts): what it holds does not grow with the log or a slow client.
    await sendAuditExport(this.audit.export(actor, filter), format, res);
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Check the hash chain, streaming: every broken link is counted and the first maxBreaks are listed with reasons and how many intact events follow each. ' +
      'The chain is checked against every signed checkpoint (database and readable sinks) and against heads recorded from earlier verifies, passed as anchor=<seq>:<hash>. ' +
      'By default only the events after the latest valid signed checkpoint are walked; full=true walks every stored event. walk says which, and from where',
  })
  @ApiQuery({ name: 'anchor', required: false, description: '<seq>:<hash> of an earlier head; repeatable (up to 100)' })
  @ApiQuery({ name: 'maxBreaks', required: false, description: '1-1000, default 100: breaks listed in detail (all are counted)' })
  @ApiQuery({ name: 'full', required: false, enum: ['true', 'false'], description: 'true: walk from genesis (or the archive boundary), not from the latest signed checkpoint' })
  async verify(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const { anchor, maxBreaks, full } = parseWith(verifyQuery, query);
    return this.audit.verify(actor, { anchors: anchor, maxBreaks, full });
  }

  @Get('checkpoints')
  @ApiOperation({
    summary:
      'Signed checkpoints of the chain (Ed25519 over seq, hash, signedAt and keyId), in seq order, with the public key that verifies them; ' +
      'publicKey is null when the broker runs unsigned',
  })
  @ApiQuery({ name: 'after', required: false, description: 'checkpoints after this event seq (the last seq of the previous page)' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  async checkpoints(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const { after, limit } = parseWith(checkpointsQuery, query);
    const page = await this.audit.checkpoints(actor, after, limit + 1);
    const items = page.items.slice(0, limit);
    return {
      signed: page.signed,
      publicKey: page.publicKey,
      keyIds: page.keyIds,
      items: items.map(checkpointToJson),
      nextAfter: page.items.length > limit ? items[items.length - 1].seq : null,
    };
  }
}
