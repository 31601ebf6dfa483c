import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { BrokerMetrics } from '@jit/observability';
import { Actor, requireRole } from '@jit/grants';
import { CurrentActor, Public } from './auth/auth.decorators';
import { ApiJson, ApiProblems, ApiReadProblems } from './dto/openapi-components';

/**
 * The OpenAPI document: built from the controllers on the first /docs request, then kept.
 * Building it walks every route with @nestjs/swagger's explorer, which nothing else needs, so
 * the broker answers /health without waiting for it (issue 13 point 1: ready under 1 s).
 */
export class OpenApiDocument {
  private built: object | undefined;

  /** What builds it; startBroker sets it once the app exists. */
  constructor(public build: () => object = () => ({})) {}

  get document(): object {
    this.built ??= this.build();
    return this.built;
  }
}

/**
 * What /health checks beyond the database: each check says whether a part this process runs is
 * alive (the sweeper's loop, where the role runs it). None in the API role.
 */
export class Liveness {
  constructor(private readonly checks: readonly (() => boolean)[] = []) {}

  alive(): boolean {
    return this.checks.every((check) => check());
  }
}

/**
 * /health and /metrics: served by every role, the sweeper's too (its management port serves
 * these two and nothing else, apps/broker/src/management.module.ts).
 */
@ApiTags('system')
@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: BrokerMetrics,
    private readonly liveness: Liveness,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Up (200 {"status":"ok"}) or down (503 {"status":"unavailable"}: the database does not answer); no token needed' })
  // Public: the one operation without a token.
  @ApiSecurity({})
  @ApiJson(200, 'Health', 'up')
  @ApiJson(503, 'Health', 'down: the database does not answer, or this process runs the sweeper and its cycles stopped ending (JIT_SWEEP_STALL_AFTER)')
  // Even here the body middleware refuses an ill-formed Authorization header or query (400) and a body that is not JSON (415).
  @ApiProblems(400, 415)
  async health(@Res() res: Response): Promise<void> {
    // Only up or down: role, clouds and database kind are in /metrics (jit_broker_info), behind a token.
    // Down too when a part this process runs has stalled (a sweeper whose cycles stopped ending).
    let up = this.liveness.alive();
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      up = false;
    }
    res.status(up ? 200 : 503).setHeader('Cache-Control', 'no-store');
    res.json({ status: up ? 'ok' : 'unavailable' });
  }

  @Get('metrics')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Prometheus metrics (auditor or admin token)' })
  @ApiResponse({ status: 200, description: 'the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiReadProblems(403)
  async scrape(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    requireRole(actor, 'auditor', 'admin');
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

}

@ApiTags('system')
@Controller()
export class SystemController {
  constructor(private readonly openApi: OpenApiDocument) {}

  @Get('docs')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'This OpenAPI document' })
  @ApiResponse({ status: 200, description: 'the OpenAPI 3.0 document of this broker', content: { 'application/json': { schema: { type: 'object' } } } })
  @ApiReadProblems()
  docs() {
    return this.openApi.document;
  }
}
