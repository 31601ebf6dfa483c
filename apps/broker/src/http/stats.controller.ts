import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, GrantStatsUseCase } from '@jit/grants';
import { CurrentActor } from './auth/auth.decorators';
import { ApiJson, ApiQueryFrom, ApiReadProblems } from './dto/openapi-components';
import { parseWith, statsQuery } from './dto/query.schemas';
import { toGrantStatsResponse } from './dto/stats.response';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/stats')
export class StatsController {
  constructor(private readonly stats: GrantStatsUseCase) {}

  @Get()
  @ApiOperation({
    summary:
      'Aggregates for charts (auditors and admins): grants per day by cloud and kind, open grants now, the revocation lag histogram, ' +
      'break-glass uses and denials by rule, over from..to (at most 366 days; default the last 30) and optionally one cloud',
  })
  @ApiQueryFrom(statsQuery, {
    from: 'start of the range, inclusive (RFC 3339); default 30 days before to',
    to: 'end of the range, exclusive (RFC 3339); default now',
    cloud: 'count only this cloud',
  })
  @ApiJson(200, 'GrantStats', 'the aggregates over the range')
  // 403: a token without the auditor or admin role.
  @ApiReadProblems(403)
  async get(@CurrentActor() actor: Actor, @Query() query: unknown) {
    return toGrantStatsResponse(await this.stats.execute(actor, parseWith(statsQuery, query)));
  }
}
