import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify';
import { Response } from 'express';
import { once } from 'node:events';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { CurrentActor } from './auth/auth.decorators';
import { toAuditResponse } from './dto/grant.response';
import { auditQuery, parseWith, verifyQuery } from './dto/query.schemas';

const CSV_COLUMNS = ['seq', 'id', 'occurredAt', 'type', 'grantId', 'cloud', 'principal', 'actor', 'data', 'prevHash', 'hash'];

/**
 * A cell that starts with `= + - @`, a tab or a CR (or their full-width forms) gets a leading `'`
 * (OWASP CSV injection), so a spreadsheet shows an actor such as `=HYPERLINK(...)` as text and never
 * runs it. The CSV is therefore for people; the JSON-lines export is the lossless one to verify.
 */
const CSV_OPTIONS = { header: true, columns: CSV_COLUMNS, escape_formulas: true };

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
    const pages = this.audit.export(actor, filter);
    res.status(200).setHeader('Cache-Control', 'no-store');
    if (format === 'jsonl') {
      res.type('application/x-ndjson');
      for await (const page of pages) {
        if (!res.write(page.map((e) => JSON.stringify(toAuditResponse(e))).join('\n') + '\n')) await once(res, 'drain');
      }
      res.end();
      return;
    }
    res.type('text/csv').setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
    const csv = stringify(CSV_OPTIONS);
    csv.pipe(res);
    for await (const page of pages) {
      for (const e of page) {
        const row = toAuditResponse(e);
        if (!csv.write({ ...row, data: JSON.stringify(row.data) })) await once(csv, 'drain');
      }
    }
    csv.end();
    await once(res, 'finish');
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Check the hash chain; reports the first broken link. Pass heads recorded from earlier verifies as anchor=<seq>:<hash> to catch a rewrite of the whole tail',
  })
  @ApiQuery({ name: 'anchor', required: false, description: '<seq>:<hash> of an earlier head; repeatable (up to 100)' })
  async verify(@CurrentActor() actor: Actor, @Query() query: unknown) {
    return this.audit.verify(actor, parseWith(verifyQuery, query).anchor);
  }
}
