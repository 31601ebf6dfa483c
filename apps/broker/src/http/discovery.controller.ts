import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { DiscoveryFindingFilter, SystemClock } from '@jit/domain';
import { DiscoveryService, StandingRemovalService } from '@jit/discovery';
import { Actor } from '@jit/grants';
import { CurrentActor } from './auth/auth.decorators';
import { sendFindingsExport } from './discovery-export';
import {
  toFindingDetailResponse,
  toFindingResponse,
  toRemovalResponse,
  toScanResponse,
  toSummaryResponse,
} from './dto/discovery.response';
import { findingsQuery, removalBody, restoreBody } from './dto/discovery.schemas';
import { ApiJson, ApiQueryFrom, ApiReadProblems, ApiWriteProblems, jsonSchemaOf } from './dto/openapi-components';
import { decisionBody, denyBody, parseWith } from './dto/query.schemas';

const ID = (what: string) => ({ name: 'id', description: `the ${what}'s id (UUID)` });
const clock = new SystemClock();

@ApiTags('discovery')
@ApiBearerAuth()
@Controller('v1/discovery')
export class DiscoveryController {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly removals: StandingRemovalService,
  ) {}

  @Post('scans')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Start a scan of every configured cloud\'s standing access (admins and auditors); it runs in the background, one at a time: while one runs, that one is answered',
  })
  @ApiJson(202, 'DiscoveryScan', 'the scan started, or the one already running')
  @ApiWriteProblems(403, 409)
  async startScan(@CurrentActor() actor: Actor) {
    return toScanResponse((await this.discovery.startScan(actor)).scan);
  }

  @Get('scans/:id')
  @ApiOperation({ summary: 'A scan\'s progress per cloud and part: pages, assignments, errors' })
  @ApiParam(ID('scan'))
  @ApiJson(200, 'DiscoveryScan', 'the scan as it is now')
  @ApiReadProblems(403, 404)
  async scan(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toScanResponse(await this.discovery.scan(actor, id));
  }

  @Get('findings')
  @ApiOperation({ summary: 'Findings (admins and auditors) in a stable order, filtered; format=csv or jsonl streams every match' })
  @ApiQueryFrom(findingsQuery, {
    cloud: 'one cloud',
    privileged: 'true: only privileged assignments; false: only the others',
    unusedFor: 'only those never used or last used at least this many days ago',
    principalType: 'human or workload (as the cloud tells), or the cloud\'s kind: user, group, role, service_principal, managed_identity, service_account',
    status: 'open (seen in the latest scan), resolved (gone since), removed (taken away through the broker)',
    scope: 'glob (*, ?) on the scope: an account (aws:<id>), an ARM scope, projects/<id>, / for an Entra tenant',
    access: 'glob (*, ?) on the role or policy name',
    limit: '1-500, default 100 (json only)',
    cursor: 'nextCursor of the previous page (json only)',
    format: 'json: one page; jsonl: every match, one DiscoveryFinding per line; csv: the same for spreadsheets',
  })
  @ApiResponse({
    status: 200,
    description: 'format=json: a page of findings; jsonl and csv stream every match',
    content: {
      'application/json': { schema: { $ref: '#/components/schemas/DiscoveryFindingPage' } },
      'application/x-ndjson': { schema: { type: 'string', description: 'one DiscoveryFinding per line' } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  @ApiReadProblems(403)
  async findings(@CurrentActor() actor: Actor, @Query() query: unknown, @Res() res: Response): Promise<void> {
    const { limit, cursor, format, unusedFor, principalType, ...rest } = parseWith(findingsQuery, query);
    const filter: DiscoveryFindingFilter = {
      ...rest,
      ...(unusedFor !== undefined && { unusedForDays: unusedFor }),
      ...(principalType === 'human' ? { human: true } : principalType === 'workload' ? { human: false } : principalType ? { principalKind: principalType } : {}),
    };
    if (format === 'json') {
      const items = await this.discovery.findings(actor, filter, { after: cursor, limit: limit + 1 });
      const page = items.slice(0, limit);
      res.json({ items: page.map((f) => toFindingResponse(f, clock.now())), nextCursor: items.length > limit ? page[page.length - 1].id : null });
      return;
    }
    // The role check before the first byte: a refused export is a problem response, not an empty file.
    await this.discovery.findings(actor, filter, { limit: 1 });
    const discovery = this.discovery;
    async function* pages() {
      let after: string | undefined;
      for (;;) {
        const page = await discovery.findings(actor, filter, { after, limit: 500 });
        if (page.length) yield page.map((f) => toFindingResponse(f, clock.now()));
        if (page.length < 500) return;
        after = page[page.length - 1].id;
      }
    }
    await sendFindingsExport(pages(), format, res);
  }

  @Get('findings/:id')
  @ApiOperation({ summary: 'One finding with its proposed rules-file entry (checked by the rules checker), its history and its removals' })
  @ApiParam(ID('finding'))
  @ApiJson(200, 'DiscoveryFindingDetail', 'the finding')
  @ApiReadProblems(403, 404)
  async finding(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toFindingDetailResponse(await this.discovery.finding(actor, id, (f) => this.removals.ofFinding(f)), clock.now());
  }

  @Get('summary')
  @ApiOperation({ summary: 'Per cloud: standing privileged assignments, of them unused (JIT_DISCOVERY_UNUSED_DAYS, default 90), humans and workloads; and the last scan' })
  @ApiJson(200, 'DiscoverySummary', 'the summary of the open findings')
  @ApiReadProblems(403)
  async summary(@CurrentActor() actor: Actor) {
    return toSummaryResponse(await this.discovery.summary(actor));
  }

  @Post('findings/:id/removal')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Ask to remove a finding\'s standing assignment (admins): it waits for approval by admins other than the requester (JIT_DISCOVERY_REMOVAL_APPROVALS), then is applied in the cloud; everything needed to restore it is kept',
  })
  @ApiBody({ schema: jsonSchemaOf(removalBody, 'input') })
  @ApiParam(ID('finding'))
  @ApiJson(202, 'StandingRemoval', 'the removal, pending approval')
  @ApiWriteProblems(403, 404, 409)
  async requestRemoval(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    const { justification } = parseWith(removalBody, body);
    return toRemovalResponse(await this.removals.requestAsAdmin(actor, id, justification));
  }

  @Get('removals/:id')
  @ApiOperation({ summary: 'A removal with its approvals (admins, auditors, and approvers of JIT_DISCOVERY_REMOVAL_APPROVER_GROUP)' })
  @ApiParam(ID('removal'))
  @ApiJson(200, 'StandingRemoval', 'the removal as it is now')
  @ApiReadProblems(403, 404)
  async removal(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toRemovalResponse(await this.removals.read(actor, id));
  }

  @Post('removals/:id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a removal (never the requester); the last approval needed applies it in the cloud' })
  @ApiBody({ schema: jsonSchemaOf(decisionBody, 'input'), required: false })
  @ApiParam(ID('removal'))
  @ApiJson(200, 'StandingRemoval', 'the removal after this approval: still pending, applied, or failed (lastError says why)')
  @ApiWriteProblems(403, 404, 409)
  async approve(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toRemovalResponse(await this.removals.approve(actor, id, parseWith(decisionBody, body).comment));
  }

  @Post('removals/:id/deny')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deny a removal, with a comment (never the requester)' })
  @ApiBody({ schema: jsonSchemaOf(denyBody, 'input') })
  @ApiParam(ID('removal'))
  @ApiJson(200, 'StandingRemoval', 'the denied removal')
  @ApiWriteProblems(403, 404, 409)
  async deny(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toRemovalResponse(await this.removals.deny(actor, id, parseWith(denyBody, body).comment));
  }

  @Post('removals/:id/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Put an applied removal\'s assignment back as it was listed (admins); audited as discovery.restored' })
  @ApiBody({ schema: jsonSchemaOf(restoreBody, 'input'), required: false })
  @ApiParam(ID('removal'))
  @ApiJson(200, 'StandingRemoval', 'the restored removal')
  @ApiWriteProblems(403, 404, 409, 502)
  async restore(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toRemovalResponse(await this.removals.restore(actor, id, parseWith(restoreBody, body).justification));
  }
}
