import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DomainError, formatIsoDuration } from '@jit/domain';
import { Actor, RequestGrantUseCase, requireRole } from '@jit/grants';
import { PolicyReloader } from '../policy/policy-reloader';
import { CurrentActor } from './auth/auth.decorators';
import { stepResponse } from './dto/approval-step.response';
import { ApiJson, ApiReadProblems, ApiWriteProblems } from './dto/openapi-components';
import { PolicyEvaluationResponse, toPolicyResponse } from './dto/policy.response';

@ApiTags('access rules')
@ApiBearerAuth()
@Controller('v1/policy')
export class PolicyController {
  constructor(
    private readonly reloader: PolicyReloader,
    private readonly requestGrant: RequestGrantUseCase,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The access rules in force, their version (SHA-256 of the file) and the last reload error, if any; admins and auditors only (the file names groups, members and trusted issuers)',
  })
  @ApiJson(200, 'AccessRules', 'the rules in force')
  // 403: not an admin or auditor (approvers and requesters included).
  @ApiReadProblems(403)
  get(@CurrentActor() actor: Actor) {
    requireRole(actor, 'admin', 'auditor');
    return toPolicyResponse(this.reloader.holder.current, this.reloader.holder.lastError);
  }

  @Post('evaluate')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Dry run: the decision a POST /v1/grants body would get from the caller now (same validation, cloud lookups and rules); nothing is stored, audited or granted',
  })
  // The schema depends on the target kinds served: the document's builder sets it, as for POST /v1/grants.
  @ApiBody({ schema: { type: 'object' } })
  @ApiJson(200, 'PolicyEvaluation', 'the verdict: allow (with the approvals it would need) or deny (with the rule and reason)')
  // 400 also for a cloud not enabled; 403: without the requester or admin role; 502, 503: the cloud lookups a request needs.
  @ApiWriteProblems(403, 502)
  async evaluate(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<PolicyEvaluationResponse> {
    const { request, verdict, bounds, maxDurationSeconds } = await this.requestGrant.dryRun(actor, body);
    const judged = { cloud: request.cloud, principal: request.principal, target: request.target, duration: formatIsoDuration(request.durationSeconds) };
    const durationBounds = { min: formatIsoDuration(bounds.minSeconds), max: formatIsoDuration(bounds.maxSeconds) };
    if (verdict.effect === 'deny') {
      return {
        effect: 'deny',
        rule: verdict.rule,
        code: verdict.code,
        reason: verdict.reason,
        errors: verdict.violations,
        policyVersion: verdict.policyVersion,
        request: judged,
        durationBounds,
        maxDuration: formatIsoDuration(maxDurationSeconds),
      };
    }
    const a = verdict.approval;
    return {
      effect: 'allow',
      rule: verdict.rule,
      mode: a.mode,
      ...(a.mode === 'approvals' && {
        approvalsRequired: a.required,
        approverGroups: a.groups,
        approvalSteps: a.steps.map(stepResponse),
        approvalTimeout: formatIsoDuration(a.timeoutSeconds),
      }),
      policyVersion: verdict.policyVersion,
      request: judged,
      durationBounds,
      maxDuration: formatIsoDuration(maxDurationSeconds),
    };
  }

  @Post('reload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-read the rules file now; an invalid file is a 400 naming line and field, and the rules in force stay' })
  @ApiJson(200, 'AccessRulesReload', 'loaded (the file changed) or unchanged, and the rules now in force')
  // 400: the file was rejected (errors name line and field; activeVersion the rules that stay); 403: not an admin.
  @ApiWriteProblems(403)
  async reload(@CurrentActor() actor: Actor) {
    requireRole(actor, 'admin');
    const outcome = await this.reloader.reload('api');
    if (outcome.status === 'rejected') {
      throw new DomainError(
        'validation',
        `the rules file was rejected; rules ${outcome.policy.version.slice(0, 12)} stay in force`,
        outcome.issues.map((i) => ({ field: `line ${i.line}${i.field ? `: ${i.field}` : ''}`, message: i.message })),
        { activeVersion: outcome.policy.version },
      );
    }
    return { status: outcome.status, ...toPolicyResponse(outcome.policy, null) };
  }
}
