import { Attributes, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  CloudAccessProvider,
  GrantContext,
  GrantSpec,
  GrantWrite,
  OwnedArtifact,
  OwnedListingPart,
  Principal,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  ReconcileScope,
  StagedAuditEvent,
  Target,
  TargetKind,
  Transaction,
  UnitOfWork,
  Grant,
} from '@jit/domain';

/** The tracer every span of the broker's own is started on (the instrumentations name theirs). */
export const TRACER_NAME = 'jit-broker';

/**
 * Runs `fn` in a span made the active one, so spans started inside it (pg queries, nested cloud
 * calls) are its children; ends it with the outcome `outcomeOf` reads from the result, or with
 * the error (recorded, status ERROR, `outcome` the provider error's kind). Without a registered
 * SDK `@opentelemetry/api` is a no-op and this only calls `fn`.
 */
export function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: () => Promise<T>, outcomeOf?: (result: T) => string): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind, attributes }, async (span: Span) => {
    try {
      const result = await fn();
      span.setAttribute('outcome', outcomeOf ? outcomeOf(result) : 'ok');
      return result;
    } catch (error) {
      span.setAttribute('outcome', error instanceof ProviderError ? error.kind : 'error');
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A cloud adapter with a span around each call to the cloud (`cloud.grant`, `cloud.revoke`,
 * `cloud.status`, ...), with the attributes `grant.id`, `cloud`, `kind`, `operation` and
 * `outcome`. Every cloud call of the broker goes through the provider port, so the composition
 * root wraps each adapter once and no adapter knows about tracing.
 */
export class TracedCloudProvider extends CloudAccessProvider {
  readonly cloud: CloudAccessProvider['cloud'];
  readonly kinds: readonly TargetKind[];

  constructor(private readonly inner: CloudAccessProvider) {
    super();
    this.cloud = inner.cloud;
    this.kinds = inner.kinds;
  }

  private call<T>(operation: string, grantId: string | null, kind: string | null, fn: () => Promise<T>, outcomeOf?: (result: T) => string): Promise<T> {
    const attributes: Attributes = { cloud: this.cloud, operation };
    if (grantId) attributes['grant.id'] = grantId;
    if (kind) attributes.kind = kind;
    return inSpan(`cloud.${operation}`, SpanKind.CLIENT, attributes, fn, outcomeOf);
  }

  artifactName(grantId: string, target: Target): string {
    return this.inner.artifactName(grantId, target);
  }

  overlapKey(principal: Principal, target: Target): string {
    return this.inner.overlapKey(principal, target);
  }

  validate(spec: GrantSpec): void {
    this.inner.validate(spec);
  }

  grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    return this.call('grant', spec.grantId, spec.target.kind, () => this.inner.grant(spec, context, signal), (r) => r.status);
  }

  revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    return this.call('revoke', spec.grantId, spec.target.kind, () => this.inner.revoke(spec, context, signal));
  }

  status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus> {
    return this.call('status', spec.grantId, spec.target.kind, () => this.inner.status(spec, signal), (r) => r.status);
  }

  listOwned(signal?: AbortSignal, scope?: ReconcileScope): AsyncIterable<OwnedArtifact> {
    return this.inner.listOwned(signal, scope);
  }

  override listingParts(scope: ReconcileScope): Promise<OwnedListingPart[]> {
    return this.inner.listingParts(scope);
  }

  removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void> {
    return this.call('remove_orphan', artifact.grantId, null, () => this.inner.removeOrphan(artifact, signal));
  }

  override canonicalTarget(target: Target, signal?: AbortSignal): Promise<Target> {
    return this.call('canonical_target', null, target.kind, () => this.inner.canonicalTarget(target, signal));
  }

  override verifyPrincipal(principal: Principal, target: Target, signal?: AbortSignal): Promise<void> {
    return this.call('verify_principal', null, target.kind, () => this.inner.verifyPrincipal(principal, target, signal));
  }

  override vendsCredentials(kind: TargetKind): boolean {
    return this.inner.vendsCredentials(kind);
  }

  /** Not traced: probes call it often and it says nothing about a grant. */
  healthCheck(signal?: AbortSignal): Promise<void> {
    return this.inner.healthCheck(signal);
  }
}

/**
 * The unit of work with a `db.transaction` span around each transaction (and each one-statement
 * grant write), so the pg instrumentation's query spans nest under it and an operator sees how
 * long a grant spent in the database.
 */
export class TracedUnitOfWork extends UnitOfWork {
  constructor(private readonly inner: UnitOfWork) {
    super();
  }

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return inSpan('db.transaction', SpanKind.INTERNAL, { 'db.system.name': 'postgresql' }, () => this.inner.run(work));
  }

  override write(write: GrantWrite, events: readonly StagedAuditEvent[]): Promise<Grant | null> {
    const grantId = write.op === 'insert' ? write.grant.id : write.id;
    return inSpan('db.transaction', SpanKind.INTERNAL, { 'db.system.name': 'postgresql', 'grant.id': grantId, operation: write.op }, () => this.inner.write(write, events));
  }
}

/**
 * The sweeper's use case with each due grant's work as one span, `sweeper.process_due`
 * (attributes `grant.id`, `cloud`, `kind`, `state` before, `outcome` the state after), so an
 * expiry's cloud call and transactions are one trace as a request's are.
 */
export function tracedDueGrantWork<A extends unknown[], T extends { execute(g: Grant, ...rest: A): Promise<Grant> }>(useCase: T): T {
  const execute = useCase.execute.bind(useCase);
  const traced = Object.create(useCase) as T;
  // The rest (the sweeper's slot gate) passes through: without it the cloud calls would not wait for a slot.
  traced.execute = (g: Grant, ...rest: A) =>
    inSpan('sweeper.process_due', SpanKind.INTERNAL, { 'grant.id': g.id, cloud: g.cloud, kind: g.kind, state: g.state }, () => execute(g, ...rest), (after) => after.state);
  return traced;
}
