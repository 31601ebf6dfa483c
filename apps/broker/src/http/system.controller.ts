import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { BrokerMetrics } from '@jit/observability';
import { Actor, requireRole } from '@jit/grants';
import { CurrentActor, Public } from './auth/auth.decorators';
import { ApiJson, ApiProblems, ApiReadProblems } from './dto/openapi-components';

/** The OpenAPI document, built from the controllers once the app exists. */
export class OpenApiDocument {
  document: object = {};
}

@ApiTags('system')
@Controller()
export class SystemController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: BrokerMetrics,
    private readonly openApi: OpenApiDocument,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Up (200 {"status":"ok"}) or down (503 {"status":"unavailable"}: the database does not answer); no token needed' })
  // Public: the one operation without a token.
  @ApiSecurity({})
  @ApiJson(200, 'Health', 'up')
  @ApiJson(503, 'Health', 'down: the database does not answer')
  // Even here the body middleware refuses an ill-formed Authorization header or query (400) and a body that is not JSON (415).
  @ApiProblems(400, 415)
  async health(@Res() res: Response): Promise<void> {
    // Only up or down: role, clouds and database kind are in /metrics (jit_broker_info), behind a token.
    let up = true;
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

  @Get('docs')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'This OpenAPI document' })
  @ApiResponse({ status: 200, description: 'the OpenAPI 3.0 document of this broker', content: { 'application/json': { schema: { type: 'object' } } } })
  @ApiReadProblems()
  docs() {
    return this.openApi.document;
  }
}
