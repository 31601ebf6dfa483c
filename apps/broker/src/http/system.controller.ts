import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { BrokerMetrics } from '@jit/observability';
import { Actor, requireRole } from '@jit/grants';
import { CurrentActor, Public } from './auth/auth.decorators';

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
  async scrape(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    requireRole(actor, 'auditor', 'admin');
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  @Get('docs')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'This OpenAPI document' })
  docs() {
    return this.openApi.document;
  }
}
