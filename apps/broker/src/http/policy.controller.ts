import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@jit/domain';
import { Actor, requireRole } from '@jit/grants';
import { PolicyReloader } from '../policy/policy-reloader';
import { CurrentActor } from './auth/auth.decorators';
import { toPolicyResponse } from './dto/policy.response';

@ApiTags('access rules')
@ApiBearerAuth()
@Controller('v1/policy')
export class PolicyController {
  constructor(private readonly reloader: PolicyReloader) {}

  @Get()
  @ApiOperation({ summary: 'The access rules in force, their version (SHA-256 of the file) and the last reload error, if any' })
  get(@CurrentActor() actor: Actor) {
    requireRole(actor, 'admin', 'auditor', 'approver');
    return toPolicyResponse(this.reloader.holder.current, this.reloader.holder.lastError);
  }

  @Post('reload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-read the rules file now; an invalid file is a 400 naming line and field, and the rules in force stay' })
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
