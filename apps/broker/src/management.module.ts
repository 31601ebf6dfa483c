import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { OidcTokenVerifier } from '@jit/identity';
import { BrokerMetrics } from '@jit/observability';
import { TokenAuthGuard } from './http/auth/token-auth.guard';
import { TokenRegistry } from './http/auth/token-registry';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { RequestLogFieldsGuard } from './http/request-log-fields.guard';
import { HealthController, Liveness } from './http/system.controller';

/** What the sweeper role's port needs: the database to ping, the metrics, the sweeper's liveness and the tokens. */
export interface ManagementParts {
  dataSource: DataSource;
  metrics: BrokerMetrics;
  liveness: Liveness;
  tokens: TokenRegistry;
  oidc: OidcTokenVerifier;
}

/**
 * The sweeper role's HTTP surface: `/health` (no token) and `/metrics` (auditor or admin token),
 * the API role's own HealthController behind the same token guard and problem responses, and
 * nothing else (every API route is a 404), so probes and Prometheus reach the role that records
 * the revocation lag, the reconciliation and the SIEM figures.
 */
@Module({})
export class ManagementModule {
  static forParts(parts: ManagementParts): DynamicModule {
    return {
      module: ManagementModule,
      controllers: [HealthController],
      providers: [
        { provide: DataSource, useValue: parts.dataSource },
        { provide: BrokerMetrics, useValue: parts.metrics },
        { provide: Liveness, useValue: parts.liveness },
        { provide: TokenRegistry, useValue: parts.tokens },
        { provide: OidcTokenVerifier, useValue: parts.oidc },
        { provide: APP_GUARD, useClass: TokenAuthGuard },
        { provide: APP_GUARD, useClass: RequestLogFieldsGuard },
        { provide: APP_FILTER, useClass: DomainExceptionFilter },
      ],
    };
  }
}
