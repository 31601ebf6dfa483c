import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { z } from 'zod';
import { REVIEW_ITEM_SOURCES } from '@jit/domain';
import { Actor } from '@jit/grants';
import { ReviewCampaigns, bulkDecisionBody, decisionBody, reviewDefinitionSchema } from '@jit/reviews';
import { CurrentActor } from './auth/auth.decorators';
import { ApiJson, ApiQueryFrom, ApiReadProblems, ApiWriteProblems, jsonSchemaOf } from './dto/openapi-components';
import { parseWith } from './dto/query.schemas';
import { toBulkResponse, toCampaignResponse, toDefinitionList, toItemResponse } from './dto/review.response';
import { reportCsv, reportHtml } from './review-report';

const limit = z.coerce.number().int().min(1).max(500).default(50);
const cursor = z.string().uuid('must be the nextCursor of the previous page').optional();

export const campaignsQuery = z.strictObject({
  state: z.enum(['open', 'closed']).optional(),
  definition: z.string().min(1).max(63).optional(),
  limit,
  cursor,
});

export const itemsQuery = z.strictObject({
  decided: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
  source: z.enum(REVIEW_ITEM_SOURCES).optional(),
  limit,
  cursor,
});

export const reportQuery = z.strictObject({ format: z.enum(['csv', 'html']).default('html') });

const CAMPAIGN_ID = { name: 'id', description: 'the campaign id (UUID)', schema: { type: 'string', format: 'uuid' } } as const;
const ITEM_ID = { name: 'id', description: 'the item id (UUID)', schema: { type: 'string', format: 'uuid' } } as const;
/** The report page runs nothing and loads nothing: its styles are inline. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page<T extends { id: string }>(items: T[], max: number): { items: T[]; nextCursor: string | null } {
  return { items, nextCursor: items.length === max ? items[items.length - 1].id : null };
}

@ApiTags('reviews')
@ApiBearerAuth()
@Controller('v1/reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewCampaigns) {}

  @Get('definitions')
  @ApiOperation({ summary: 'Campaign definitions: those of JIT_REVIEWS_FILE and those made through the API (admins, auditors, approvers)' })
  @ApiJson(200, 'ReviewDefinitionList', 'every definition')
  @ApiReadProblems(403)
  async definitions(@CurrentActor() actor: Actor) {
    return toDefinitionList(await this.reviews.definitions(actor));
  }

  @Post('campaigns')
  @HttpCode(201)
  @ApiOperation({ summary: 'Define a campaign (admin): scope, reviewers, schedule, duration, default; start it with POST /v1/reviews/campaigns/{definition}/start or let its schedule do so' })
  @ApiBody({ schema: jsonSchemaOf(reviewDefinitionSchema, 'input') })
  @ApiJson(201, 'ReviewDefinitionList', 'the definition as stored (one item)')
  // 409: the name is taken (by the file or an earlier definition).
  @ApiWriteProblems(403, 409)
  async define(@CurrentActor() actor: Actor, @Body() body: unknown) {
    const d = await this.reviews.define(actor, body);
    return toDefinitionList([{ definition: d, origin: 'api' }]);
  }

  @Post('campaigns/:definition/start')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a campaign now from a definition (admin): its items are read from discovery\'s findings and the rules in force' })
  @ApiParam({ name: 'definition', description: 'the definition\'s name', schema: { type: 'string' } })
  @ApiJson(201, 'ReviewCampaign', 'the campaign, open')
  // 404: no such definition; 422: the scope holds more items than a campaign takes.
  @ApiWriteProblems(403, 404, 422)
  async start(@CurrentActor() actor: Actor, @Param('definition') definition: string, @Res({ passthrough: true }) res: Response) {
    const c = await this.reviews.start(actor, definition);
    res.setHeader('Location', `/v1/reviews/campaigns/${c.id}`);
    return toCampaignResponse(c);
  }

  @Get('campaigns')
  @ApiOperation({ summary: 'Campaigns, newest first (admins, auditors, approvers)' })
  @ApiQueryFrom(campaignsQuery, { limit: '1-500, default 50', cursor: 'nextCursor of the previous page' })
  @ApiJson(200, 'ReviewCampaignPage', 'a page of campaigns')
  @ApiReadProblems(403)
  async list(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const q = parseWith(campaignsQuery, query);
    const rows = await this.reviews.listCampaigns(actor, { state: q.state, definition: q.definition }, { after: q.cursor, limit: q.limit });
    return page(rows.map(toCampaignResponse), q.limit);
  }

  @Get('campaigns/:id')
  @ApiOperation({ summary: 'One campaign with its counts (admins, auditors, approvers)' })
  @ApiParam(CAMPAIGN_ID)
  @ApiJson(200, 'ReviewCampaign', 'the campaign')
  @ApiReadProblems(403, 404)
  async get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toCampaignResponse(await this.reviews.getCampaign(actor, id));
  }

  @Get('campaigns/:id/items')
  @ApiOperation({ summary: 'A campaign\'s items: admins and auditors all; a reviewer those their groups may decide' })
  @ApiParam(CAMPAIGN_ID)
  @ApiQueryFrom(itemsQuery, { decided: 'true or false', source: 'standing or eligibility', limit: '1-500, default 50', cursor: 'nextCursor of the previous page' })
  @ApiJson(200, 'ReviewItemPage', 'a page of items')
  @ApiReadProblems(403, 404)
  async items(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: unknown) {
    const q = parseWith(itemsQuery, query);
    const rows = await this.reviews.listItems(actor, id, { decided: q.decided, source: q.source }, { after: q.cursor, limit: q.limit });
    return page(rows.map(toItemResponse), q.limit);
  }

  @Post('campaigns/:id/decisions')
  @HttpCode(200)
  @ApiOperation({ summary: 'One decision on many items of the campaign (a reviewer of each; never their own access); each item is decided or refused on its own' })
  @ApiParam(CAMPAIGN_ID)
  @ApiBody({ schema: jsonSchemaOf(bulkDecisionBody, 'input') })
  @ApiJson(200, 'ReviewBulkDecision', 'per item: decided (with the item) or refused (with the reason)')
  @ApiWriteProblems(403, 404)
  async decideMany(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toBulkResponse(await this.reviews.decideMany(actor, id, body));
  }

  @Get('campaigns/:id/report')
  @ApiOperation({ summary: 'The campaign report (admins, auditors): who reviewed what, when, the decision and what was applied, as CSV or a printable HTML page' })
  @ApiParam(CAMPAIGN_ID)
  @ApiQueryFrom(reportQuery, { format: 'html (default, printable) or csv' })
  @ApiProduces('text/html', 'text/csv')
  @ApiResponse({ status: 200, description: 'the report', content: { 'text/html': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } })
  @ApiReadProblems(403, 404)
  async report(@CurrentActor() actor: Actor, @Param('id') id: string, @Query() query: unknown, @Res() res: Response) {
    const { format } = parseWith(reportQuery, query);
    const report = await this.reviews.report(actor, id);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const name = `review-${report.campaign.definition}-${report.campaign.id}`;
    if (format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
      res.status(200).send(reportCsv(report));
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', REPORT_CSP);
    res.setHeader('Content-Disposition', `inline; filename="${name}.html"`);
    res.status(200).send(reportHtml(report));
  }

  @Get('campaigns/:id/rules-patch')
  @ApiOperation({
    summary:
      'The change to the rules file the campaign\'s eligibility decisions call for (admins, auditors): a unified diff against the rules in force, loaded by the rules checker before it is offered; X-Review-Skipped names items it could not carry',
  })
  @ApiParam(CAMPAIGN_ID)
  @ApiProduces('text/x-diff')
  @ApiResponse({ status: 200, description: 'the patch (empty when nothing changes)', content: { 'text/x-diff': { schema: { type: 'string' } } } })
  // 409: the patched file would not load.
  @ApiReadProblems(403, 404, 409)
  async rulesPatch(@CurrentActor() actor: Actor, @Param('id') id: string, @Res() res: Response) {
    const patch = await this.reviews.rulesPatch(actor, id);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'text/x-diff; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="review-${id}.patch"`);
    res.setHeader('X-Rules-Version', patch.baseVersion);
    res.setHeader('X-Review-Applied', String(patch.applied.length));
    if (patch.skipped.length) res.setHeader('X-Review-Skipped', JSON.stringify(patch.skipped).slice(0, 4000));
    res.status(200).send(patch.patch);
  }

  @Get('items/:id')
  @ApiOperation({ summary: 'One item (admins, auditors, and the reviewers who may decide it; to anyone else a 404)' })
  @ApiParam(ITEM_ID)
  @ApiJson(200, 'ReviewItem', 'the item')
  @ApiReadProblems(403, 404)
  async item(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toItemResponse(await this.reviews.getItem(actor, id));
  }

  @Post('items/:id/decision')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Decide an item (a reviewer in its groups; never the principal under review): keep, remove (a standing assignment goes to discovery\'s removal, an eligibility entry into the rules patch) or narrow (eligibility: a shorter maxDuration, fewer targets), with a justification',
  })
  @ApiParam(ITEM_ID)
  @ApiBody({ schema: jsonSchemaOf(decisionBody, 'input') })
  @ApiJson(200, 'ReviewItem', 'the item, decided, with what was applied')
  // 403: not a reviewer of the item, or their own access; 409: decided already, or the campaign is closed.
  @ApiWriteProblems(403, 404, 409)
  async decide(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toItemResponse(await this.reviews.decide(actor, id, body));
  }
}
