import 'reflect-metadata';
import { INestApplication, LogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { BrokerConfig } from '@jit/config';
import { Clock, CloudAccessProvider, DiscoveryFindingsReader, StandingRemovals, SystemClock, TargetKinds } from '@jit/domain';
import {
  ApproveGrantUseCase,
  AuditLogUseCase,
  DenyGrantUseCase,
  CloudProviderRegistry,
  GetGrantUseCase,
  GrantLifecycle,
  GrantStatsUseCase,
  GrantTransitions,
  ListGrantsUseCase,
  ProcessDueGrantUseCase,
  ReconcileOrphansUseCase,
  RequestGrantUseCase,
  RevokeGrantUseCase,
} from '@jit/grants';
import { OidcTokenVerifier } from '@jit/identity';
import { AuditRelay, loadNotificationsConfig, siemSecrets } from '@jit/notifications';
import { BrokerMetrics, TracedCloudProvider, TracedUnitOfWork, tracedDueGrantWork } from '@jit/observability';
import { AccessPolicyHolder } from '@jit/policy';
import { AuditCheckpointer, AuditLog } from '@jit/audit';
import {
  Database,
  PostgresAuditChainStore,
  PostgresAuditCheckpointStore,
  PostgresGrantRepository,
  PostgresGrantStatsReader,
  PostgresReviewStore,
  PostgresReviewUsageReader,
  PostgresUnitOfWork,
  PostgresWorkQueue,
  openDatabase,
} from '@jit/persistence';
import { AuditCheckpointScheduler } from './audit/audit-checkpoint.scheduler';
import { createAuditRelay } from './audit-relay.factory';
import { Discovery, createDiscovery } from './discovery/discovery.factory';
import { loadAuditSigning } from './audit/audit-signing';
import { BrokerLifecycleHooks } from './broker-hooks';
import { BrokerLogging, startLogging } from './broker-logging';
import { BrokerModule } from './broker.module';
import { ConsoleAuth } from './console/console-auth';
import { ConsoleSessionStore } from './console/console-session.store';
import { consoleStaticMiddleware } from './console/console-static';
import { TokenRegistry } from './http/auth/token-registry';
import { answerClientErrors } from './http/client-error.handler';
import { jsonBodyMiddleware } from './http/json-body.middleware';
import { requestIdMiddleware } from './http/request-id.middleware';
import { buildOpenApiDocument } from './http/openapi-document';
import { Liveness, OpenApiDocument } from './http/system.controller';
import { ManagementModule } from './management.module';
import { SubjectRateLimiter } from './http/subject-rate-limit.guard';
import { PolicyReloader } from './policy/policy-reloader';
import { GrantExpirySweeper } from './sweeper/grant-expiry.sweeper';
import { ReconcileScheduler } from './sweeper/reconcile.scheduler';
import { ReconcileMetricsHooks } from './reconcile-metrics.hooks';
import { ReviewScheduler, registerReviewMetrics } from './reviews/review.scheduler';
import { ReviewCampaigns, loadReviewsFile } from '@jit/reviews';
import { StrandedClaims } from './sweeper/stranded-claims';
import { targetKinds } from './target-kinds';
import { registerWritePathMetrics } from './write-path.metrics';

/** How often each replica chains staged audit events besides the rounds writers ask for: those of a writer that died, or of a round that failed. */
const AUDIT_CHAIN_SWEEP_MS = 1000;
/**
 * Writers' chaining rounds begin at least this far apart: under load one round (three round trips
 * and a WAL flush) takes 20 ms of commits rather than the few that landed while the previous round
 * ran; readers that need the chain (audit API, export, verify) never wait for it (docs/audit.md).
 */
const AUDIT_CHAIN_SPACING_MS = 20;

/** A check for /health: whether the sweeper's last cycle ended within `stallAfterMs`; says so once when it did not. */
function sweeperAlive(sweeper: GrantExpirySweeper, stallAfterMs: number): () => boolean {
  let warned = false;
  return () => {
    const since = sweeper.msSinceCycleEnded();
    const alive = since < stallAfterMs;
    if (!alive && !warned) {
      new Logger('GrantExpirySweeper').error(`no sweep cycle has ended for ${Math.round(since / 1000)} s (JIT_SWEEP_STALL_AFTER): /health answers 503`);
    }
    warned = !alive;
    return alive;
  };
}

/** How often a stopping broker closes the keep-alive connections that have fallen idle. */
const IDLE_CLOSE_MS = 50;
/**
 * Of the shutdown deadline, the part a stopping broker waits for its HTTP requests in flight to
 * end; the rest is for chaining their events, the final checkpoint and handing claims back.
 */
const DRAIN_SHARE = 0.5;

export interface StartOptions {
  config: BrokerConfig;
  providers: CloudAccessProvider[];
  clock?: Clock;
  /** The target kinds served; by default every kind the three provider libs describe (`targetKinds`). */
  kinds?: TargetKinds;
  /** An already open database (tests); otherwise opened from the config and closed with the broker. */
  database?: Database;
  /** The lowest of these is the log level (tests and the sandbox); JIT_LOG_LEVEL otherwise. */
  logLevels?: LogLevel[];
  /** Logging already started (main.ts starts it before the broker, for the configuration's warnings); otherwise started here. */
  logging?: BrokerLogging;
  /** Discovery's findings and removals for access reviews; by default discovery's own (tests may hand in others). */
  reviewPorts?: { findings: DiscoveryFindingsReader; removals: StandingRemovals } | null;
  /** How often the review scheduler ticks (tests: long, ticked by hand). */
  reviewTickMs?: number;
}

export interface RunningBroker {
  app: INestApplication | null;
  /** http://127.0.0.1:PORT: the API, or in the sweeper role /health and /metrics only. */
  url: string | null;
  database: Database;
  grants: PostgresGrantRepository;
  auditLog: AuditLog;
  sweeper: GrantExpirySweeper | null;
  metrics: BrokerMetrics;
  policy: PolicyReloader;
  /** Discovery of standing access: its use cases and scheduler (tests seed, scan and kick it). */
  discovery: Discovery;
  /** Access reviews' schedule (sweeper and all roles); tests tick it with `runOnce`. */
  reviewScheduler: ReviewScheduler | null;
  /** Signs audit checkpoints (sweeper and all roles, when a signing key is configured). */
  checkpoints: AuditCheckpointScheduler | null;
  /**
   * Stops in order: listening first (the port is free at once), then every cloud call in flight
   * is cancelled, the schedulers drain, and this replica's claims are handed back so another
   * replica takes the rows at once; the database last.
   */
  close(): Promise<void>;
  /** Claims left by work that failed for want of the database, waiting to be handed back. */
  stranded: StrandedClaims;
  /** JIT_SHUTDOWN_DEADLINE: runUntilSignal exits after this long, whatever close() still waits for. */
  shutdownDeadlineMs: number;
  /** Releases every claim this replica holds (close() does; runUntilSignal too, when the deadline comes first). */
  handBackClaims(): Promise<number>;
}

/**
 * The composition root: database, store, providers, use cases, sweeper and HTTP API, per the
 * configured role (api, sweeper or all). The sweeper role's port serves /health and /metrics only.
 */
export async function startBroker(options: StartOptions): Promise<RunningBroker> {
  const { config } = options;
  // JSON lines from the first one on (the start-up notices come before the app exists), secrets scrubbed.
  const logging = options.logging ?? startLogging(config, process.env, options.logLevels);
  const clock = options.clock ?? new SystemClock();
  const kinds = options.kinds ?? targetKinds;
  // An invalid rules file stops the start here, before anything listens, with its line and field.
  const policyHolder = await AccessPolicyHolder.open(config.policyFile, kinds, () => clock.now());
  // Likewise a bad webhooks file, or a webhook secret missing from the environment.
  const notifications = config.notificationsFile ? loadNotificationsConfig(config.notificationsFile) : { webhooks: [], siem: [] };
  const webhooks = notifications.webhooks;
  logging.redactor.add(...webhooks.flatMap((w) => [w.secret, w.url]), ...siemSecrets(notifications.siem));
  // Approver groups are declared in the rules file; a name that is not would route nothing, silently.
  for (const w of webhooks) {
    const unknown = (w.approverGroups ?? []).filter((g) => !Object.hasOwn(policyHolder.current.file.groups, g));
    if (unknown.length) {
      new Logger('Notifications').warn(`webhook ${w.name}: approverGroups ${unknown.join(', ')} are not groups of the rules file, so no request will match them`);
    }
  }
  // Access reviews' definitions (JIT_REVIEWS_FILE): a bad file stops the start, naming its line and field.
  const reviewDefinitions = config.reviews.file ? loadReviewsFile(config.reviews.file) : [];
  // Without a signing key the broker starts only when told to run unsigned, and says so.
  const signing = loadAuditSigning(config.audit);
  const ownsDatabase = !options.database;
  const database = options.database ?? (await openDatabase(config.databaseUrl, config.dataDir));
  // One unit of work shared by the grant writes and the audit log, so a change and its events commit together.
  // With tracing on, each transaction is a span, and so is each cloud call (one wrapper per adapter, around the port).
  const tracing = config.observability.tracing;
  const postgresUnitOfWork = new PostgresUnitOfWork(database.dataSource, clock, config.replicaId);
  const unitOfWork = tracing ? new TracedUnitOfWork(postgresUnitOfWork) : postgresUnitOfWork;
  const store = new PostgresGrantRepository(database.dataSource, clock);
  const queue = new PostgresWorkQueue(database.dataSource, clock, config.replicaId);
  const auditLog = new AuditLog(unitOfWork, new PostgresAuditChainStore(database.dataSource), clock, AUDIT_CHAIN_SPACING_MS);
  const metrics = new BrokerMetrics(() => store.countByState());
  metrics.info.set({ role: config.role, clouds: options.providers.map((p) => p.cloud).join(','), database: database.description.startsWith('embedded') ? 'embedded' : 'postgresql' }, 1);
  // Commits per state change: the group commit's statements by writes carried, and the chaining rounds beside them.
  registerWritePathMetrics(metrics.registry, () => postgresUnitOfWork.writeBatchStats(), () => auditLog.chainingStats());
  const hooks = new BrokerLifecycleHooks(metrics, kinds);
  const registry = new CloudProviderRegistry(tracing ? options.providers.map((p) => new TracedCloudProvider(p)) : options.providers);
  const transitions = new GrantTransitions(unitOfWork, store, auditLog, hooks);
  // Aborted at shutdown: cancels every cloud call in flight (the lifecycle records nothing of them).
  const stopping = new AbortController();
  const lifecycle = new GrantLifecycle(transitions, store, registry, clock, config, hooks, stopping.signal);
  const policy = new PolicyReloader(policyHolder, auditLog, metrics, config.replicaId, config.policyReloadIntervalMs);
  const oidc = new OidcTokenVerifier([], { now: () => clock.now() });
  // Discovery (docs/discovery.md) from each configured provider's inventory; a bad criteria file or schedule stops the start.
  const discovery = createDiscovery({ dataSource: database.dataSource, providers: options.providers, config, clock, auditLog, policies: policyHolder, kinds, metrics, grants: store });
  policyHolder.onChange((p) => oidc.setIssuers(p.file.issuers));

  // Whatever this replica's previous process had claimed died with it.
  await queue.releaseOwnLeases();
  let sweeper: GrantExpirySweeper | null = null;
  let reconciler: ReconcileScheduler | null = null;
  let notifier: AuditRelay | null = null;
  let checkpoints: AuditCheckpointScheduler | null = null;
  let reviewScheduler: ReviewScheduler | null = null;
  // Claims left by work that failed for want of the database go back as soon as it answers, and the sweeper is woken.
  const stranded = new StrandedClaims(queue, () => sweeper?.kick());
  hooks.onWriteFailed = (id, e) => stranded.note(id, e);
  const checkpointStore = new PostgresAuditCheckpointStore(database.dataSource);
  const trust = signing && { keyring: signing.keyring, publicKeyPem: signing.signer.publicKeyPem, store: checkpointStore, sinks: signing.sinks };
  if (config.role !== 'api' && signing) {
    const checkpointer = new AuditCheckpointer(
      checkpointStore,
      () => auditLog.chainedHead(),
      signing.signer,
      signing.sinks,
      { everyEvents: config.audit.checkpointEvery, maxDelayMs: config.audit.checkpointIntervalMs },
      () => clock.now(),
      (outcome, sink, error) => {
        metrics.auditCheckpoints.inc({ outcome, sink: sink ?? '' });
        if (error) new Logger('AuditCheckpoints').warn(`checkpoint not published to ${sink}: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
      },
    );
    checkpoints = new AuditCheckpointScheduler(checkpointer, config.audit.checkpointIntervalMs);
  }
  if (config.role !== 'api') {
    const reconcile = new ReconcileOrphansUseCase(store, auditLog, registry, {
      clock,
      lookbackMs: config.reconcileLookbackMs,
      hooks: new ReconcileMetricsHooks(metrics),
    });
    reconciler = new ReconcileScheduler(queue, reconcile, config.reconcileIntervalMs);
    const processDue = new ProcessDueGrantUseCase({ transitions, lifecycle, registry, clock });
    sweeper = new GrantExpirySweeper(queue, tracing ? tracedDueGrantWork(processDue) : processDue, clock, {
      owner: config.replicaId,
      intervalMs: config.sweepIntervalMs,
      leaseMs: config.leaseMs,
      concurrency: config.sweepConcurrency,
      clouds: registry.all().map((p) => p.cloud),
      onFailed: (id, e) => stranded.note(id, e),
    });
    const s = sweeper;
    hooks.onWorkDue = (at) => s.noteDue(at);
    // Webhooks and SIEMs (docs/siem.md): one relay over the audit log, a cursor and a lease per destination.
    notifier = createAuditRelay(notifications, { dataSource: database.dataSource, clock, owner: config.replicaId, publicUrl: config.publicUrl, metrics });
    const n = notifier;
    if (n) hooks.onRecorded = () => n.kick();
  }
  // Access reviews (docs/reviews.md): discovery's findings and removals where discovery is wired.
  const reviewStore = new PostgresReviewStore(database.dataSource);
  const reviews = new ReviewCampaigns({
    store: reviewStore,
    usage: new PostgresReviewUsageReader(database.dataSource),
    findings: options.reviewPorts?.findings ?? discovery.service,
    removals: options.reviewPorts?.removals ?? discovery.removals,
    policies: policyHolder,
    clock,
    definitions: reviewDefinitions,
    publicUrl: config.publicUrl,
    // Events staged by a review: chain them now and wake the webhooks (reminders, escalations).
    onRecorded: () => {
      auditLog.chained().then(() => notifier?.kick(), () => undefined);
    },
    // One failing definition or campaign is logged (its name and the error's message, no tokens) and counted; the tick goes on.
    onTickError: (what, e) => new Logger('ReviewScheduler').error(`access review ${what} failed: ${e instanceof Error ? e.message : String(e)}`),
  });
  registerReviewMetrics(metrics.registry, reviews);
  if (config.role !== 'api') reviewScheduler = new ReviewScheduler(reviews, reviewStore, clock, config.replicaId, options.reviewTickMs);

  // /health is down where the sweeper runs and its cycles stopped ending (JIT_SWEEP_STALL_AFTER): a liveness probe restarts it.
  const liveness = new Liveness(sweeper ? [sweeperAlive(sweeper, config.sweepStallAfterMs)] : []);
  const tokens = TokenRegistry.load(config.tokensFile, config.adminToken);
  let app: INestApplication;
  let openApi: OpenApiDocument | null = null;
  if (config.role !== 'sweeper') {
    const getGrant = new GetGrantUseCase(store, policyHolder);
    openApi = new OpenApiDocument();
    app = await NestFactory.create(
      BrokerModule.forParts({
        dataSource: database.dataSource,
        metrics,
        registry,
        tokens,
        oidc,
        policy,
        openApi,
        liveness,
        requestGrant: new RequestGrantUseCase({
          store, audit: auditLog, transitions, lifecycle, registry, clock, hooks, policies: policyHolder, leaseMs: config.leaseMs,
          bounds: { minSeconds: config.minDurationSeconds, maxSeconds: config.maxDurationSeconds },
          kinds,
        }),
        approveGrant: new ApproveGrantUseCase({ store, transitions, lifecycle, clock, policies: policyHolder, leaseMs: config.leaseMs }),
        denyGrant: new DenyGrantUseCase({ store, transitions, clock, policies: policyHolder }),
        getGrant,
        listGrants: new ListGrantsUseCase(store, policyHolder),
        revokeGrant: new RevokeGrantUseCase({ reader: getGrant, transitions, lifecycle, clock, leaseMs: config.leaseMs }),
        auditLog: new AuditLogUseCase(auditLog, trust),
        grantStats: new GrantStatsUseCase(new PostgresGrantStatsReader(database.dataSource), clock),
        rateLimiter: new SubjectRateLimiter(config.rateLimits, metrics),
        discovery: discovery.service,
        standingRemovals: discovery.removals,
        reviews,
        console: new ConsoleAuth(new ConsoleSessionStore(database.dataSource), tokens, oidc, policyHolder, config.console, clock, config.publicUrl),
      }),
      { bodyParser: false, logger: logging.nest },
    );
  } else {
    // The sweeper role: /health for its probes and /metrics for scraping, with the API's handlers and token check; no API route.
    app = await NestFactory.create(ManagementModule.forParts({ dataSource: database.dataSource, metrics, liveness, tokens, oidc }), {
      bodyParser: false,
      logger: logging.nest,
    });
  }
  // Names the framework to anyone who asks; nothing needs it.
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable('x-powered-by');
  // First: every later middleware, guard and handler logs with the request's id.
  app.use(requestIdMiddleware(logging.root));
  app.use(jsonBodyMiddleware(config.bodyLimitBytes));
  // The web console's files at /console (its sign-in routes are ConsoleAuthController's).
  if (config.role !== 'sweeper') app.use('/console', consoleStaticMiddleware(config.console.dir, config.console.oidc && new URL(config.console.oidc.issuer).origin));
  // Built on the first /docs request, not here: the start does not wait for it.
  if (openApi) openApi.build = () => buildOpenApiDocument(app, kinds, config.publicUrl);
  answerClientErrors(app.getHttpServer());
  await app.listen(config.port, config.host);
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  await policy.start();
  sweeper?.start();
  reconciler?.start();
  notifier?.start();
  checkpoints?.start();
  // Scheduled scans and those left running by a dead replica, where the sweeper runs; an API replica runs the scans asked of it.
  if (config.role !== 'api') discovery.scheduler.start();
  reviewScheduler?.start();
  // Writers only ask for a round after their commit and do not wait for it (docs/audit.md): this
  // timer chains what no round took, e.g. events staged by a process killed between its COMMIT
  // and the round, or whose round failed.
  auditLog.startChaining(AUDIT_CHAIN_SWEEP_MS, (e) => new Logger('AuditChain').warn(`chaining staged audit events failed: ${e instanceof Error ? e.message : String(e)}`));

  let closed = false;
  return {
    app,
    url,
    database,
    grants: store,
    auditLog,
    sweeper,
    metrics,
    policy,
    discovery,
    checkpoints,
    reviewScheduler,
    stranded,
    shutdownDeadlineMs: config.shutdownDeadlineMs,
    handBackClaims: () => queue.releaseOwnLeases(),
    async close() {
      if (closed) return;
      closed = true;
      const drainBy = Date.now() + config.shutdownDeadlineMs * DRAIN_SHARE;
      // Stop listening first: a replacement can bind the port at once, and balancers see this replica gone.
      const server = app.getHttpServer() as Server | undefined;
      const drained = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      // Keep-alive connections are closed as soon as they fall idle, so the requests still open end the drain.
      const closingIdle = setInterval(() => server?.closeIdleConnections(), IDLE_CLOSE_MS);
      // Cancel every cloud call in flight: their rows are handed back below, for another replica to carry on.
      stopping.abort();
      await stranded.stop();
      policy.stop();
      await notifier?.stop();
      await reconciler?.stop();
      await sweeper?.stop();
      await discovery.scheduler.stop();
      await reviewScheduler?.stop();
      // The requests still in flight commit their events now (their cloud calls were cancelled above,
      // so this is short): wait for them until half the deadline has passed, then cut what is left,
      // so the chaining and final checkpoint below still fit in it.
      const drainBudget = new AbortController();
      const drainedInTime = await Promise.race([
        drained.then(() => true),
        delay(Math.max(0, drainBy - Date.now()), false, { signal: drainBudget.signal }).catch(() => false),
      ]);
      drainBudget.abort();
      clearInterval(closingIdle);
      if (!drainedInTime) {
        new Logger('Broker').warn(`requests still open at half the shutdown deadline: their connections are closed`);
        server?.closeAllConnections();
      }
      // Only now is nothing of this replica writing events (HTTP drained, sweeper and schedulers
      // stopped): chain everything staged, then sign that head in the final checkpoint.
      await auditLog.stopChaining().catch(() => undefined);
      await checkpoints?.stop();
      await app.close();
      // No work of this replica runs any more: every row it holds may be claimed at once, here or elsewhere.
      await queue.releaseOwnLeases().catch((e: unknown) => new Logger('Broker').warn(`claims not handed back at shutdown: ${e instanceof Error ? e.message : String(e)}`));
      if (ownsDatabase) await database.close();
    },
  };
}
