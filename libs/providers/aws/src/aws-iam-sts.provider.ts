import { IAMClient } from '@aws-sdk/client-iam';
import canonicalize from 'canonicalize';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CloudAccessProvider, EMPTY_RECONCILE_SCOPE, GrantContext, GrantSpec, OwnedArtifact, OwnedListingPart, Principal, ProviderError, ProvisionOutcome,
  ProvisionStatus, ReconcileScope, StandingAccessInventory, SystemClock, Target, TargetKind,
} from '@jit/domain';
import { BROKER_POLICY_NAME, denySid, grantIdFromSid, grantSid, isBrokerSid, sessionName } from './aws-artifact.naming';
import { errorCode } from './aws-error.classifier';
import { AwsTargetOf, awsKinds, awsTarget } from './aws-kinds';
import { AwsStandingInventory } from './aws-standing.inventory';
import { validateAwsGrant } from './aws-grant.validator';
import { AwsProviderOptions, AwsRetryOptions, DEFAULT_MEMBER_ROLE_NAME, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRY } from './aws-provider.options';
import { withRetry } from './aws-retry.policy';
import { SignalScope } from '@jit/resilience';
import { STS_MAX_SECONDS, STS_MIN_SECONDS, grantStatement, sessionDenyStatement, sessionPolicy } from './aws-statement.builder';
import { isSpent, isoSeconds, serialize } from './broker-policy.document';
import { BrokerPolicyStore } from './broker-policy.store';
import { IamEntity, entityFromArn } from './iam-entity';
import { CallRunner, InlinePolicyClient } from './inline-policy.client';
import { BrokerIdentity, BrokerIdentityReader, ROLE_CHAINING_MAX_SECONDS } from './broker-identity.reader';
import { RoleInfoCache } from './role-info.cache';
import { ServedAccounts } from './served-accounts';
import { trustPolicyCanAllow } from './trust-policy.inspection';
import { IdentityCenterClients } from './identity-center.clients';
import { PERMISSION_SET_KIND, PermissionSetAssignments } from './permission-set.assignments';

const KINDS = awsKinds.map((k) => k.kind);

/**
 * AWS adapter (design.md section 4): `aws.iam-policy` and `aws.assume-role` are statements in
 * one broker-managed inline policy per role or user, each with its grant's Sid and a
 * `DateLessThan aws:CurrentTime` deadline; `aws.sts-credentials` is an `AssumeRole` whose
 * session carries the grant id, cut off early by a deny on its `aws:SourceIdentity`.
 */
export class AwsIamStsProvider extends CloudAccessProvider {
  readonly cloud = 'aws' as const;
  readonly kinds: readonly TargetKind[] = KINDS;
  private readonly iam: IAMClient;
  private readonly sts: STSClient;
  private readonly store: BrokerPolicyStore;
  private readonly roles: RoleInfoCache;
  private readonly identity: BrokerIdentityReader;
  private readonly accounts: ServedAccounts;
  private readonly retry: AwsRetryOptions;
  private inventory: AwsStandingInventory | undefined;
  /** The caller's signal, carried from the public methods to every SDK call under them. */
  private readonly scope = new SignalScope();
  private readonly now: () => Date;
  /** `aws.permission-set`: Identity Center account assignments (permission-set.assignments.ts). */
  private readonly permissionSets: PermissionSetAssignments;

  constructor(private readonly options: AwsProviderOptions) {
    super();
    const clock = options.clock ?? new SystemClock();
    this.now = () => clock.now();
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // Retries are ours (bounded, jittered, classified), so the SDK makes one attempt per call.
    const common = { region: options.region, maxAttempts: 1, ...(options.credentials ? { credentials: options.credentials } : {}) };
    const iamEndpoint = options.iamEndpoint ? { endpoint: options.iamEndpoint } : {};
    this.iam = new IAMClient({ ...common, ...iamEndpoint });
    this.sts = new STSClient({ ...common, ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}) });
    this.identity = new BrokerIdentityReader(this.sts, this.run);
    this.accounts = new ServedAccounts(
      {
        memberAccounts: options.memberAccounts ?? [],
        memberRoleName: options.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME,
        iamConfig: { region: options.region, maxAttempts: 1, ...iamEndpoint },
      },
      this.identity,
      this.iam,
      this.sts,
      this.run,
      this.now,
    );
    const iamFor = (entity: IamEntity) => this.accounts.iamFor(entity.account);
    this.store = new BrokerPolicyStore(new InlinePolicyClient(iamFor, this.run), this.now, () => this.scope.current);
    this.roles = new RoleInfoCache(iamFor, this.run, this.now);
    this.permissionSets = new PermissionSetAssignments(
      new IdentityCenterClients(options),
      {
        instanceArn: options.ssoInstanceArn,
        maxSessionSeconds: options.ssoMaxSessionSeconds,
        permissionSetsPerAccount: options.ssoPermissionSetsPerAccount,
        assignmentWaitMs: options.ssoAssignmentWaitMs,
      },
      this.run,
      this.now,
      () => this.scope.current,
    );
  }

  override vendsCredentials(kind: TargetKind): boolean {
    return awsKinds.some((k) => k.kind === kind && k.vendsCredentials);
  }

  artifactName(grantId: string, target: Target): string {
    if (target.kind === PERMISSION_SET_KIND) return this.permissionSets.artifactName(grantId);
    return target.kind === 'aws.sts-credentials' ? sessionName(grantId) : grantSid(grantId);
  }

  overlapKey(principal: Principal, target: Target): string {
    if (target.kind === PERMISSION_SET_KIND) return this.permissionSets.overlapKey(principal, target);
    const { kind, ...fields } = target;
    const sorted = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) ? [...(v as string[])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : v]));
    // Keys sorted, absent fields left out (RFC 8785): the text stored with grants written before stays the same.
    return `${kind}|${principal.id}|${canonicalize(sorted)}`;
  }

  /** Also refuses what depends on the broker's identity, once it is known (see `verifyPrincipal`). */
  validate(spec: GrantSpec): void {
    if (spec.target.kind === PERMISSION_SET_KIND) return this.permissionSets.validate(spec);
    validateAwsGrant(spec);
    const [arn, field] = actedOn(spec.principal, spec.target);
    const entity = entityFromArn(arn, field);
    this.accounts.checkKnown(entity.arn, entity.account, entity.partition, field);
    const me = this.identity.known();
    if (me && spec.target.kind === 'aws.sts-credentials') {
      checkRoleChaining(me, Math.ceil((spec.expiresAt.getTime() - spec.startsAt.getTime()) / 1000));
    }
  }

  /**
   * Reads the broker's identity (once per process) before the request is judged, so that
   * `validate()` can refuse what depends on it, and refuses an ARN in an account the broker does
   * not serve here, before the rules: a 400 naming the field, whatever the rules would say. A
   * failure to read the identity is left to `grant()`; a malformed ARN to `validate()`.
   */
  override verifyPrincipal(principal: Principal, target: Target, signal?: AbortSignal): Promise<void> {
    if (target.kind === PERMISSION_SET_KIND) return this.scope.run(signal, () => this.permissionSets.verifyPrincipal(principal));
    return this.scope.run(signal, () => this.checkPrincipal(principal, target));
  }

  /** `aws.permission-set`: the set by ARN and name, an organizational unit's accounts listed (permission-set.assignments.ts). */
  override canonicalTarget(target: Target, signal?: AbortSignal): Promise<Target> {
    if (target.kind !== PERMISSION_SET_KIND) return Promise.resolve(target);
    return this.scope.run(signal, () => this.permissionSets.canonicalTarget(target));
  }

  grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    if (spec.target.kind === PERMISSION_SET_KIND) return this.scope.run(signal, () => this.permissionSets.grant(spec, context));
    return this.scope.run(signal, () => this.provide(spec, context));
  }

  revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    if (spec.target.kind === PERMISSION_SET_KIND) return this.scope.run(signal, () => this.permissionSets.revoke(spec, context));
    return this.scope.run(signal, () => this.withdraw(spec, context));
  }

  status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus> {
    if (spec.target.kind === PERMISSION_SET_KIND) return this.scope.run(signal, () => this.permissionSets.status(spec));
    return this.scope.run(signal, () => this.read(spec));
  }

  async *listOwned(signal?: AbortSignal, scope: ReconcileScope = EMPTY_RECONCILE_SCOPE): AsyncIterable<OwnedArtifact> {
    for (const part of await this.listingParts(scope)) yield* part.list(signal);
  }

  /**
   * One part per role or user whose broker policy may hold statements: the configured ones, and
   * for each subject of the scope the ARN the broker wrote on (the principal; for
   * `aws.sts-credentials`, the role whose session deny it adds), in any served account.
   */
  override async listingParts(scope: ReconcileScope): Promise<OwnedListingPart[]> {
    const arns = new Set<string>();
    const add = (arn: string) => {
      try {
        arns.add(entityFromArn(arn).arn);
      } catch {
        // Not an IAM role or user ARN (a malformed row): nothing of the broker's can be there.
      }
    };
    for (const arn of this.options.reconcilePrincipals ?? []) add(arn);
    const subjects = await scope.subjects();
    for (const { principal, target } of subjects) {
      if (target.kind !== PERMISSION_SET_KIND && (KINDS as readonly string[]).includes(target.kind)) add(actedOn(principal, target)[0]);
    }
    const assignments = this.permissionSets
      .listingParts(subjects)
      .map((part) => ({ name: part.name, list: (signal?: AbortSignal) => this.scope.iterate(signal, () => part.list()) }));
    return [...[...arns].map((arn) => ({ name: arn, list: (signal?: AbortSignal) => this.scope.iterate(signal, () => this.ownedBy(arn)) })), ...assignments];
  }

  removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void> {
    if ('permissionSetArn' in artifact.locator) return this.scope.run(signal, () => this.permissionSets.removeOrphan(artifact));
    return this.scope.run(signal, () => this.removeOwned(artifact));
  }

  healthCheck(signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, async () => void (await this.identity.read()));
  }

  /** Discovery's view of the served accounts' IAM (aws-standing.inventory.ts), with this adapter's clients, retries and signals. */
  override standingInventory(): StandingAccessInventory {
    this.inventory ??= new AwsStandingInventory(this.accounts, this.identity, this.run, this.scope, {
      ...this.options.inventory,
      memberRoleName: this.options.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME,
    });
    return this.inventory;
  }

  private async checkPrincipal(principal: Principal, target: Target): Promise<void> {
    await this.identity.get().catch(() => undefined);
    const [arn, field] = actedOn(principal, target);
    let entity: IamEntity;
    try {
      entity = entityFromArn(arn, field);
    } catch {
      return;
    }
    this.accounts.checkKnown(entity.arn, entity.account, entity.partition, field);
  }

  private async provide(spec: GrantSpec, context: GrantContext): Promise<ProvisionOutcome> {
    void context; // each grant has its own statement, so overlapping grants coexist without help
    this.validate(spec);
    const target = awsTarget(spec.target);
    if (target.kind === 'aws.sts-credentials') return this.assumeRole(spec, target);
    const entity = await this.principal(spec);
    const statement = grantStatement(spec.grantId, target, spec.expiresAt);
    await this.store.add(entity, statement, 'principal.id');
    return {
      status: 'active',
      providerRef: { principalArn: entity.arn, policyName: BROKER_POLICY_NAME, sid: statement.Sid, expiresAt: isoSeconds(spec.expiresAt) },
    };
  }

  private async withdraw(spec: GrantSpec, context: GrantContext & { early: boolean }): Promise<void> {
    const target = awsTarget(spec.target);
    if (target.kind !== 'aws.sts-credentials') {
      await this.store.remove(await this.principal(spec), grantSid(spec.grantId));
      return;
    }
    // Sessions cannot be deleted; at expiry they end by themselves (DurationSeconds and the session policy's cutoff).
    if (!context.early) return;
    const role = await this.served(target.roleArn, 'target.roleArn');
    try {
      await this.store.add(role, sessionDenyStatement(spec.grantId, spec.expiresAt, this.now()), 'target.roleArn');
    } catch (e) {
      // A deleted role's sessions are dead already.
      if (!(e instanceof ProviderError && e.options.code === 'NoSuchEntity')) throw e;
    }
  }

  private async read(spec: GrantSpec): Promise<ProvisionStatus> {
    const target = awsTarget(spec.target);
    if (target.kind === 'aws.sts-credentials') {
      if (this.now().getTime() >= spec.expiresAt.getTime()) return { status: 'absent' };
      const role = await this.served(target.roleArn, 'target.roleArn');
      const denied = (await this.store.read(role))?.Statement.some((s) => s.Sid === denySid(spec.grantId));
      // STS cannot list sessions: within its window and not denied, an issued session is usable.
      return denied ? { status: 'absent' } : { status: 'active', providerRef: { roleArn: role.arn, roleSessionName: spec.artifactName } };
    }
    const entity = await this.served(spec.principal.id, 'principal.id');
    const sid = grantSid(spec.grantId);
    const found = (await this.store.read(entity))?.Statement.some((s) => s.Sid === sid);
    return found ? { status: 'active', providerRef: { principalArn: entity.arn, policyName: BROKER_POLICY_NAME, sid } } : { status: 'absent' };
  }

  /**
   * The broker policy of one role or user, read with its account's credentials. A principal in an
   * account no longer served is skipped: the broker cannot act there.
   */
  private async *ownedBy(arn: string): AsyncIterable<OwnedArtifact> {
    const entity = await this.served(arn, 'principal.id').catch((e: unknown) => {
      if (e instanceof ProviderError && e.options.code === 'UnservedAccount') return undefined;
      throw e;
    });
    if (!entity) return;
    const doc = await this.store.read(entity);
    for (const s of doc?.Statement ?? []) {
      if (!isBrokerSid(s.Sid)) continue;
      // A live session deny protects a revoked grant; only a spent one is clutter to remove.
      if (s.Effect === 'Deny' && !isSpent(s, this.now())) continue;
      yield {
        grantId: grantIdFromSid(s.Sid!),
        artifactName: s.Sid!,
        locator: { principalArn: entity.arn, policyName: BROKER_POLICY_NAME, sid: s.Sid },
        description: `${s.Effect} statement ${s.Sid} in inline policy ${BROKER_POLICY_NAME} on ${entity.arn}`,
      };
    }
  }

  private async removeOwned(artifact: OwnedArtifact): Promise<void> {
    const { principalArn, sid } = artifact.locator as { principalArn?: unknown; sid?: unknown };
    if (typeof principalArn !== 'string' || typeof sid !== 'string' || !isBrokerSid(sid)) {
      throw new ProviderError('invalid', 'not an artifact listed by the AWS adapter', { field: 'locator' });
    }
    await this.store.remove(await this.served(principalArn, 'locator.principalArn'), sid, (s) => s.Effect === 'Allow' || isSpent(s, this.now()));
  }

  private async assumeRole(spec: GrantSpec, target: AwsTargetOf<'aws.sts-credentials'>): Promise<ProvisionOutcome> {
    const role = await this.served(target.roleArn, 'target.roleArn');
    // Whole seconds from the next second to expiresAt's second: STS counts from its own (later) issue second, so the session never outlives the grant.
    const remaining = Math.floor(spec.expiresAt.getTime() / 1000) - Math.ceil(this.now().getTime() / 1000);
    if (remaining <= 0) throw new ProviderError('invalid', 'the grant has already expired', { field: 'expiresAt' });
    if (remaining > STS_MAX_SECONDS) {
      throw new ProviderError('limit', `STS sessions last at most ${STS_MAX_SECONDS} seconds`, { field: 'duration', code: 'DurationSeconds' });
    }
    // STS's floor; the session policy still ends access at expiresAt.
    const duration = Math.max(STS_MIN_SECONDS, remaining);
    checkRoleChaining(await this.identity.get(), duration);
    await this.precheckRole(role, duration);
    const name = sessionName(spec.grantId);
    const out = await this.run('AssumeRole', (abortSignal) =>
      this.sts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          RoleSessionName: name,
          SourceIdentity: name,
          DurationSeconds: duration,
          Policy: serialize(sessionPolicy(target, spec.expiresAt)),
        }),
        { abortSignal },
      ),
    ).catch((e: unknown) => Promise.reject(this.assumeRoleError(e, role)));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new ProviderError('terminal', 'AssumeRole answered without credentials');
    }
    const expiration = c.Expiration.toISOString();
    return {
      status: 'active',
      providerRef: {
        roleArn: target.roleArn,
        roleSessionName: name,
        sourceIdentity: name,
        assumedRoleArn: out.AssumedRoleUser?.Arn,
        assumedRoleId: out.AssumedRoleUser?.AssumedRoleId,
        expiration,
      },
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration },
      notice:
        'Credentials are returned once. An early revoke denies this session (by its SourceIdentity) on the role; ' +
        'IAM changes can take a few seconds to reach every region.',
    };
  }

  /**
   * What STS would refuse, refused first with a 422 naming it (`GetRole`, cached for a minute):
   * a session longer than the role's `MaxSessionDuration`, and a trust policy in which no
   * statement can allow `sts:SetSourceIdentity`. Whether a statement that can allow it matches
   * the broker (principal, conditions, SCPs) only STS can say: its `AccessDenied` names the
   * action it refused, and `assumeRoleError` maps that to the same 422.
   */
  private async precheckRole(role: IamEntity, duration: number): Promise<void> {
    const info = await this.roles.get(role);
    if (duration > info.maxSessionDuration) {
      throw new ProviderError(
        'limit',
        `${role.arn} allows sessions of at most ${info.maxSessionDuration} seconds (its MaxSessionDuration; IAM's default is 3,600); ` +
          `this grant needs ${duration}. Ask for a shorter duration or raise the role's MaxSessionDuration (up to 43,200)`,
        { field: 'duration', code: 'MaxSessionDuration' },
      );
    }
    if (!trustPolicyCanAllow(info.trustPolicy, 'sts:SetSourceIdentity')) throw setSourceIdentityRefused(role);
  }

  private assumeRoleError(e: unknown, role: IamEntity): unknown {
    if (!(e instanceof ProviderError)) return e;
    const roleArn = role.arn;
    if (e.options.code === 'ValidationError' && /DurationSeconds|session limit/i.test(e.message)) {
      this.roles.forget(role);
      return new ProviderError('limit', `${e.message} (${roleArn})`, { field: 'duration', code: 'MaxSessionDuration', cause: e });
    }
    if (e.options.code === 'PackedPolicyTooLarge') {
      return new ProviderError(
        'limit',
        'STS packs the session policy into a compressed binary form with its own limit, separate from (and often reached before) ' +
          `the 2,048-character plaintext limit, and this one does not fit: ${e.message}. Use fewer or wildcarded resources and actions`,
        { field: 'target.sessionPolicy', code: 'PackedPolicyTooLarge', cause: e },
      );
    }
    if (errorCode(e.options.cause) === 'AccessDenied' && /sts:SetSourceIdentity/.test(e.message)) {
      this.roles.forget(role);
      return setSourceIdentityRefused(role, e);
    }
    if (errorCode(e.options.cause) === 'AccessDenied') {
      return new ProviderError(
        'terminal',
        `the broker may not assume ${roleArn}: its trust policy must allow the broker sts:AssumeRole and sts:SetSourceIdentity (${e.message})`,
        { code: 'AccessDenied', field: 'target.roleArn', cause: e },
      );
    }
    return e;
  }

  private async principal(spec: GrantSpec): Promise<IamEntity> {
    return this.served(spec.principal.id, 'principal.id');
  }

  /** The entity an ARN names, once its account is known to be served (else 'invalid' naming `field`). */
  private async served(arn: string, field: string): Promise<IamEntity> {
    const entity = entityFromArn(arn, field);
    await this.accounts.check(entity.arn, entity.account, entity.partition, field);
    return entity;
  }

  /**
   * One SDK call with the adapter's retries and a per-call timeout; the caller's signal (the
   * lifecycle's deadline) also aborts the request in flight and stops the retries.
   */
  private readonly run: CallRunner = (operation, call) =>
    withRetry(operation, () => call(this.scope.callSignal(this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)), this.retry, this.scope.current);
}

/** The 422 for a role whose trust policy does not let the broker tag the session with its grant. */
function setSourceIdentityRefused(role: IamEntity, cause?: unknown): ProviderError {
  return new ProviderError(
    'limit',
    `the trust policy of ${role.arn} does not allow the broker sts:SetSourceIdentity, which every aws.sts-credentials session needs ` +
      '(the grant id as SourceIdentity is what an early revoke denies): add it next to sts:AssumeRole for the broker ' +
      '(docs/providers/aws.md, "Trust policy of a vended role")',
    { field: 'target.roleArn', code: 'SetSourceIdentity', cause },
  );
}

/**
 * A broker running on a role session (web identity, ECS task role, instance profile) assumes
 * every role by role chaining, and STS refuses `DurationSeconds` above one hour for that.
 */
function checkRoleChaining(me: BrokerIdentity, seconds: number): void {
  if (!me.roleSession || seconds <= ROLE_CHAINING_MAX_SECONDS) return;
  throw new ProviderError(
    'limit',
    `the broker runs as a role session (${me.arn}), so every session it vends is role chaining, which STS caps at ` +
      `${ROLE_CHAINING_MAX_SECONDS.toLocaleString('en-US')} seconds (one hour); this grant asks for ${seconds.toLocaleString('en-US')}`,
    { field: 'duration', code: 'RoleChaining' },
  );
}

/** The ARN the broker writes on for a grant (and whose account it acts in), and the request field that holds it. */
function actedOn(principal: Principal, target: Target): [string, string] {
  const t = awsTarget(target);
  return t.kind === 'aws.sts-credentials' ? [t.roleArn, 'target.roleArn'] : [principal.id, 'principal.id'];
}
