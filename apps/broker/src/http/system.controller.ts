import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { DataSource } from 'typeorm';
import { BrokerMetrics } from '@jit/observability';
import { Actor, CloudProviderRegistry, requireRole } from '@jit/grants';
import { CurrentActor, Public } from './auth/auth.decorators';

/** The OpenAPI document, built from the controllers once the app exists. */
export class OpenApiDocument {
  document: object = {};
}

export const BROKER_ROLE = Symbol('BROKER_ROLE');

@ApiTags('system')
@Controller()
export class SystemController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: BrokerMetrics,
    private readonly registry: CloudProviderRegistry,
    private readonly openApi: OpenApiDocument,
    @Inject(BROKER_ROLE) private readonly role: string,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness and readiness (database reachable); no token needed' })
  async health(@Res() res: Response): Promise<void> {
    let database = 'up';
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      database = 'down';
    }
    res.status(database === 'up' ? 200 : 503).json({
      status: database === 'up' ? 'ok' : 'unavailable',
      role: this.role,
      database,
      clouds: this.registry.all().map((p) => p.cloud),
    });
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
