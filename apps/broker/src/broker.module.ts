import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  ApproveGrantUseCase,
  AuditLogUseCase,
  CloudProviderRegistry,
  DenyGrantUseCase,
  GetGrantUseCase,
  GrantStatsUseCase,
  ListGrantsUseCase,
  RequestGrantUseCase,
  RevokeGrantUseCase,
} from '@jit/grants';
import { DiscoveryService, StandingRemovalService } from '@jit/discovery';
import { OidcTokenVerifier } from '@jit/identity';
import { BrokerMetrics } from '@jit/observability';
import { ReviewCampaigns } from '@jit/reviews';
import { ConsoleAuth } from './console/console-auth';
import { ConsoleAuthController } from './console/console-auth.controller';
import { AuditController } from './http/audit.controller';
import { DiscoveryController } from './http/discovery.controller';
import { TokenAuthGuard } from './http/auth/token-auth.guard';
import { TokenRegistry } from './http/auth/token-registry';
import { DomainExceptionFilter } from './http/domain-exception.filter';
import { GrantsController } from './http/grants.controller';
import { PolicyController } from './http/policy.controller';
import { ReviewsController } from './http/reviews.controller';
import { StatsController } from './http/stats.controller';
import { RequestLogFieldsGuard } from './http/request-log-fields.guard';
import { SubjectRateLimitGuard, SubjectRateLimiter } from './http/subject-rate-limit.guard';
import { PolicyReloader } from './policy/policy-reloader';
import { HealthController, Liveness, OpenApiDocument, SystemController } from './http/system.controller';

/** The objects the composition root built; Nest only routes HTTP to them. */
export interface BrokerParts {
  dataSource: DataSource;
  metrics: BrokerMetrics;
  registry: CloudProviderRegistry;
  tokens: TokenRegistry;
  oidc: OidcTokenVerifier;
  policy: PolicyReloader;
  openApi: OpenApiDocument;
  /** What /health checks beyond the database (the sweeper's loop, in the `all` role). */
  liveness: Liveness;
  requestGrant: RequestGrantUseCase;
  getGrant: GetGrantUseCase;
  listGrants: ListGrantsUseCase;
  revokeGrant: RevokeGrantUseCase;
  approveGrant: ApproveGrantUseCase;
  denyGrant: DenyGrantUseCase;
  auditLog: AuditLogUseCase;
  grantStats: GrantStatsUseCase;
  rateLimiter: SubjectRateLimiter;
  /** The web console's sign-in and sessions; the token guard also accepts its session cookie. */
  console: ConsoleAuth;
  /** Discovery of standing access: scans, findings, summary (docs/discovery.md). */
  discovery: DiscoveryService;
  /** Removals of standing assignments, approved and restorable. */
  standingRemovals: StandingRemovalService;
  /** Access reviews (docs/reviews.md). */
  reviews: ReviewCampaigns;
}

@Module({})
export class BrokerModule {
  static forParts(parts: BrokerParts): DynamicModule {
    const values: Provider[] = [
      { provide: DataSource, useValue: parts.dataSource },
      { provide: BrokerMetrics, useValue: parts.metrics },
      { provide: CloudProviderRegistry, useValue: parts.registry },
      { provide: TokenRegistry, useValue: parts.tokens },
      { provide: OidcTokenVerifier, useValue: parts.oidc },
      { provide: PolicyReloader, useValue: parts.policy },
      { provide: ApproveGrantUseCase, useValue: parts.approveGrant },
      { provide: DenyGrantUseCase, useValue: parts.denyGrant },
      { provide: OpenApiDocument, useValue: parts.openApi },
      { provide: Liveness, useValue: parts.liveness },
      { provide: RequestGrantUseCase, useValue: parts.requestGrant },
      { provide: GetGrantUseCase, useValue: parts.getGrant },
      { provide: ListGrantsUseCase, useValue: parts.listGrants },
      { provide: RevokeGrantUseCase, useValue: parts.revokeGrant },
      { provide: AuditLogUseCase, useValue: parts.auditLog },
      { provide: GrantStatsUseCase, useValue: parts.grantStats },
      { provide: SubjectRateLimiter, useValue: parts.rateLimiter },
      { provide: ConsoleAuth, useValue: parts.console },
      { provide: DiscoveryService, useValue: parts.discovery },
      { provide: StandingRemovalService, useValue: parts.standingRemovals },
      { provide: ReviewCampaigns, useValue: parts.reviews },
    ];
    return {
      module: BrokerModule,
      controllers: [GrantsController, AuditController, StatsController, PolicyController, DiscoveryController, HealthController, SystemController, ConsoleAuthController, ReviewsController],
      providers: [
        ...values,
        // In this order: the limit is keyed by the subject the token guard established, and
        // once both let the request through, its log lines and span get the actor and the grant id.
        { provide: APP_GUARD, useClass: TokenAuthGuard },
        { provide: APP_GUARD, useClass: SubjectRateLimitGuard },
        { provide: APP_GUARD, useClass: RequestLogFieldsGuard },
        { provide: APP_FILTER, useClass: DomainExceptionFilter },
      ],
    };
  }
}
