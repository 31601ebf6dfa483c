import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { Actor, ApproveGrantUseCase, DenyGrantUseCase, GetGrantUseCase, ListGrantsUseCase, RequestGrantUseCase, RevokeGrantUseCase } from '@jit/grants';
import { CurrentActor } from './auth/auth.decorators';
import { noteCreatedGrant } from './request-log-fields.guard';
import { GrantResponse, toGrantResponse } from './dto/grant.response';
import { ApiJson, ApiQueryFrom, ApiReadProblems, ApiWriteProblems, GRANT_CREATED_HEADERS, jsonSchemaOf } from './dto/openapi-components';
import { decisionBody, denyBody, listGrantsQuery, parseWith, revokeBody } from './dto/query.schemas';

const GRANT_ID = { name: 'id', description: 'the grant id (UUID)', schema: { type: 'string', format: 'uuid' } } as const;

@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1/grants')
export class GrantsController {
  constructor(
    private readonly requestGrant: RequestGrantUseCase,
    private readonly getGrant: GetGrantUseCase,
    private readonly listGrants: ListGrantsUseCase,
    private readonly revokeGrant: RevokeGrantUseCase,
    private readonly approveGrant: ApproveGrantUseCase,
    private readonly denyGrant: DenyGrantUseCase,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Request a grant; the access rules allow it at once, queue it for approvers (202, pending_approval) or deny it (403 naming the decision)' })
  // The schema depends on the target kinds served: start-broker fills it in from the registry.
  @ApiBody({ schema: { type: 'object' } })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'same key and body: same grant; other body: 409', schema: { type: 'string', minLength: 1, maxLength: 255 } })
  @ApiJson(201, 'Grant', 'active; `credentials` appear here once for kinds that vend them', GRANT_CREATED_HEADERS)
  @ApiJson(202, 'Grant', 'waiting for approvers (pending_approval), or accepted by the cloud and not settled yet (provisioning)', GRANT_CREATED_HEADERS)
  @ApiJson(200, 'Grant', 'an Idempotency-Key replay: the existing grant', GRANT_CREATED_HEADERS)
  // 403: a token without the requester or admin role, or denied by the access rules (`decision` names the rule or deny-list entry and the reason).
  @ApiWriteProblems(403, 409, 422, 502)
  async create(
    @CurrentActor() actor: Actor,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.requestGrant.execute(actor, body, idempotencyKey);
    noteCreatedGrant(result.grant.id);
    res.status(result.replayed ? 200 : result.grant.state === 'active' ? 201 : 202);
    res.setHeader('Location', `/v1/grants/${result.grant.id}`);
    if (result.credentials) res.setHeader('Cache-Control', 'no-store');
    return toGrantResponse(result.grant, result.credentials);
  }

  @Get()
  @ApiOperation({
    summary:
      'List grants (newest first), keyset-paged, among those the caller may read: admins and auditors all; others their own requests plus, for approvers, the grants whose rule names one of their groups as approvers',
  })
  @ApiJson(200, 'GrantPage', 'a page of grants; nextCursor is null on the last')
  // 403: a requester (without the approver role) filtering by another requester; awaiting=me without the approver or admin role.
  @ApiReadProblems(403)
  @ApiQueryFrom(listGrantsQuery, {
    from: 'createdAt >= from (RFC 3339)',
    to: 'createdAt < to (RFC 3339)',
    awaiting: '"me": pending requests the caller (approver or admin) could approve or deny now',
    limit: '1-500, default 50',
    cursor: 'nextCursor of the previous page',
  })
  async list(@CurrentActor() actor: Actor, @Query() query: unknown): Promise<{ items: GrantResponse[]; nextCursor: string | null }> {
    const { limit, cursor, ...filter } = parseWith(listGrantsQuery, query);
    const page = await this.listGrants.execute(actor, filter, limit, cursor ?? null);
    return { items: page.items.map((g) => toGrantResponse(g)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One grant, if the caller may read it (as for the list); any other is a 404, as if it did not exist' })
  @ApiParam(GRANT_ID)
  @ApiJson(200, 'Grant', 'the grant as it is now')
  @ApiReadProblems(404)
  async get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toGrantResponse(await this.getGrant.execute(actor, id));
  }

  @Post(':id/revoke')
  @ApiOperation({
    summary:
      'End a grant early (a pending request is withdrawn; a provisioning grant records the revoke and is revoked as soon as provisioning settles); admins can force-close a revoke_failed grant with {"force": true}',
  })
  @ApiBody({ schema: jsonSchemaOf(revokeBody, 'input'), required: false })
  @ApiParam(GRANT_ID)
  @ApiJson(200, 'Grant', 'revoked, withdrawn, or already ended; the grant as it is now')
  @ApiJson(
    202,
    'Grant',
    'the grant is still provisioning: the revoke is recorded (`revokeRequestedAt`) and carried out as soon as provisioning settles; it ends `revoked`, or `failed` if provisioning fails',
  )
  // 403: not the requester nor an admin, or force without the admin role; 409: force on a grant that is not revoke_failed.
  @ApiWriteProblems(403, 404, 409)
  async revoke(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const command = parseWith(revokeBody, body);
    const grant = await this.revokeGrant.execute(actor, id, { reason: command.reason ?? null, force: command.force });
    res.status(grant.state === 'provisioning' ? 202 : 200);
    return toGrantResponse(grant);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a pending request (approvers in the rule\'s groups; never the requester; to an approver outside them the grant is a 404). The last approval needed starts the grant.',
  })
  @ApiBody({ schema: jsonSchemaOf(decisionBody, 'input'), required: false })
  @ApiParam(GRANT_ID)
  @ApiJson(200, 'Grant', 'the grant after this approval: still pending_approval, or started by the last approval needed')
  // 403: not an approver in the rule's groups, or the requester; 409: not pending, or already approved by this approver; 422, 502: the last approval provisions.
  @ApiWriteProblems(403, 404, 409, 422, 502)
  async approve(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toGrantResponse(await this.approveGrant.execute(actor, id, parseWith(decisionBody, body)));
  }

  @Post(':id/deny')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deny a pending request, with a comment for the requester' })
  @ApiBody({ schema: jsonSchemaOf(denyBody, 'input') })
  @ApiParam(GRANT_ID)
  @ApiJson(200, 'Grant', 'the denied grant')
  @ApiWriteProblems(403, 404, 409)
  async deny(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toGrantResponse(await this.denyGrant.execute(actor, id, parseWith(denyBody, body)));
  }
}
