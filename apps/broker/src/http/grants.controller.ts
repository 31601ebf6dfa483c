import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { z } from 'zod';
import { Actor, ApproveGrantUseCase, DenyGrantUseCase, GetGrantUseCase, ListGrantsUseCase, RequestGrantUseCase, RevokeGrantUseCase } from '@jit/grants';
import { CurrentActor } from './auth/auth.decorators';
import { toGrantResponse } from './dto/grant.response';
import { decisionBody, listGrantsQuery, parseWith, revokeBody } from './dto/query.schemas';

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
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'same key and body: same grant; other body: 409' })
  @ApiResponse({ status: 201, description: 'active; `credentials` appear here once for kinds that vend them' })
  @ApiResponse({ status: 202, description: 'waiting for approvers (pending_approval), or accepted by the cloud and not settled yet (provisioning)' })
  @ApiResponse({ status: 403, description: 'denied by the access rules; `decision` names the rule or deny-list entry and the reason' })
  @ApiResponse({ status: 200, description: 'an Idempotency-Key replay: the existing grant' })
  async create(
    @CurrentActor() actor: Actor,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.requestGrant.execute(actor, body, idempotencyKey);
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
  @ApiResponse({ status: 403, description: 'a requester (without the approver role) filtering by another requester; awaiting=me without the approver or admin role' })
  @ApiQuery({ name: 'cloud', required: false })
  @ApiQuery({ name: 'state', required: false })
  @ApiQuery({ name: 'principal', required: false })
  @ApiQuery({ name: 'requester', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'createdAt >= from (RFC 3339)' })
  @ApiQuery({ name: 'to', required: false, description: 'createdAt < to (RFC 3339)' })
  @ApiQuery({ name: 'awaiting', required: false, description: '"me": pending requests the caller (approver or admin) could approve or deny now' })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async list(@CurrentActor() actor: Actor, @Query() query: unknown) {
    const { limit, cursor, ...filter } = parseWith(listGrantsQuery, query);
    const page = await this.listGrants.execute(actor, filter, limit, cursor ?? null);
    return { items: page.items.map((g) => toGrantResponse(g)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One grant, if the caller may read it (as for the list); any other is a 404, as if it did not exist' })
  @ApiResponse({ status: 404, description: 'no such grant, or one the caller may not read' })
  async get(@CurrentActor() actor: Actor, @Param('id') id: string) {
    return toGrantResponse(await this.getGrant.execute(actor, id));
  }

  @Post(':id/revoke')
  @ApiOperation({
    summary:
      'End a grant early (a pending request is withdrawn; a provisioning grant records the revoke and is revoked as soon as provisioning settles); admins can force-close a revoke_failed grant with {"force": true}',
  })
  @ApiBody({ schema: z.toJSONSchema(revokeBody, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as object, required: false })
  @ApiResponse({ status: 200, description: 'revoked, withdrawn, or already ended; the grant as it is now' })
  @ApiResponse({
    status: 202,
    description: 'the grant is still provisioning: the revoke is recorded (`revokeRequestedAt`) and carried out as soon as provisioning settles; it ends `revoked`, or `failed` if provisioning fails',
  })
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
  @ApiBody({ schema: z.toJSONSchema(decisionBody, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as object, required: false })
  async approve(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toGrantResponse(await this.approveGrant.execute(actor, id, parseWith(decisionBody, body)));
  }

  @Post(':id/deny')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deny a pending request, with a comment for the requester' })
  @ApiBody({ schema: z.toJSONSchema(decisionBody, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as object })
  async deny(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: unknown) {
    return toGrantResponse(await this.denyGrant.execute(actor, id, parseWith(decisionBody, body)));
  }
}
