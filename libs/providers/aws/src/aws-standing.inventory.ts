import { GetAccountAuthorizationDetailsCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  InventoryPage, ProviderError, StandingAccess, StandingAccessInventory, StandingAssignment, StandingPrincipal,
} from '@jit/domain';
import { SignalScope } from '@jit/resilience';
import { AccessAdvisorReader, AccessAdvisorOptions, DEFAULT_ACCESS_ADVISOR, ServiceUse, TRACKING_PERIOD_DAYS } from './access-advisor.reader';
import { AccountCatalog, CATALOG_TTL_MS } from './account-catalog';
import { BROKER_POLICY_NAME, grantIdFromSid } from './aws-artifact.naming';
import { POLICY_VERSION, PolicyDocument, foreignStatements, isBrokerStatement, parseBrokerPolicy, serialize } from './broker-policy.document';
import { errorCode, isNoSuchEntity } from './aws-error.classifier';
import { BrokerIdentityReader } from './broker-identity.reader';
import { CallRunner } from './inline-policy.client';
import { ServedAccounts } from './served-accounts';
import { StandingAssignmentWriter, StandingLocator, parseLocator } from './standing-assignment.writer';
import { AllowedActions, allowedActions, decodePolicy, externalTrust, reachesService, roleIsHuman } from './standing-policy';

/**
 * Principals per page: each costs one access-advisor job (two calls or more) and a user one
 * `GetUser`, so a page stays well under a minute even when IAM throttles, and a resumed scan
 * repeats little.
 */
export const DEFAULT_INVENTORY_PAGE_SIZE = 25;

export interface AwsInventoryOptions {
  pageSize?: number;
  accessAdvisor?: Partial<AccessAdvisorOptions>;
  /** The broker's role in member accounts (its name, path allowed): its policies are reported but never removable. */
  memberRoleName: string;
}

interface Principal {
  kind: 'user' | 'group' | 'role';
  arn: string;
  /** IAM's UserId / GroupId / RoleId. */
  id: string;
  name: string;
  path: string;
  inline: { name: string; document: string }[];
  attached: string[];
  groups: string[];
  trustPolicy?: string;
  roleLastUsed?: Date;
}

interface Holding {
  access: StandingAccess;
  allowed: AllowedActions | undefined;
  key: string;
  brokerOwned: boolean;
  /** The grants a broker-owned holding's statements name (decoded from their Sids). */
  brokerGrantIds?: string[];
  /** Not removable through discovery whatever the principal (the foreign part of the broker policy). */
  fixed?: boolean;
  locator: StandingLocator | Record<string, unknown>;
}

/**
 * The AWS side of discovery (issue 16, docs/providers/aws.md "Discovery"): one part per served
 * account, one page per page of `GetAccountAuthorizationDetails` (users, groups, roles; the cursor
 * is its `Marker`). Each principal's attached and inline policies are one assignment each, and
 * each user's membership of a group one more, carrying the group's policies. Last use comes from
 * access advisor per principal (the services its policies grant against those it used within
 * IAM's 400-day tracking period), `RoleLastUsed` and `PasswordLastUsed`.
 */
export class AwsStandingInventory implements StandingAccessInventory {
  readonly cloud = 'aws' as const;
  private readonly catalogs = new Map<string, Promise<AccountCatalog>>();
  private readonly advisor: AccessAdvisorReader;
  private readonly writer: StandingAssignmentWriter;
  private readonly pageSize: number;

  constructor(
    private readonly accounts: ServedAccounts,
    private readonly identity: BrokerIdentityReader,
    private readonly run: CallRunner,
    private readonly scope: SignalScope,
    private readonly options: AwsInventoryOptions,
  ) {
    this.advisor = new AccessAdvisorReader(run, { ...DEFAULT_ACCESS_ADVISOR, ...options.accessAdvisor }, () => scope.current);
    this.writer = new StandingAssignmentWriter(run);
    this.pageSize = options.pageSize ?? DEFAULT_INVENTORY_PAGE_SIZE;
  }

  parts(signal?: AbortSignal): Promise<string[]> {
    return this.scope.run(signal, () => this.accounts.all());
  }

  page(part: string, cursor: string | null, signal?: AbortSignal): Promise<InventoryPage> {
    return this.scope.run(signal, () => this.readPage(part, cursor));
  }

  remove(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, async () => {
      const locator = this.writable(assignment);
      await this.writer.remove(await this.iamFor(locator.account), locator);
    });
  }

  restore(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, async () => {
      const locator = this.writable(assignment);
      await this.writer.restore(await this.iamFor(locator.account), locator);
    });
  }

  private writable(assignment: StandingAssignment): StandingLocator {
    if (assignment.cloud !== 'aws') throw new ProviderError('invalid', `not an AWS assignment (${assignment.cloud})`, { field: 'cloud' });
    if (assignment.brokerOwned || !assignment.removable) {
      throw new ProviderError('invalid', `${assignment.access.name} on ${assignment.principal.id} is not removable through discovery`, { field: 'removable' });
    }
    return parseLocator(assignment.locator);
  }

  private async iamFor(account: string): Promise<IAMClient> {
    const me = await this.identity.get();
    if (!/^\d{12}$/.test(account)) throw new ProviderError('invalid', `${account} is not a 12-digit AWS account id`, { field: 'part' });
    const served = account === me.account || (await this.accounts.all()).includes(account);
    if (!served) throw new ProviderError('invalid', `AWS account ${account} is not served by this broker`, { field: 'part', code: 'UnservedAccount' });
    return this.accounts.iamFor(account);
  }

  private async readPage(account: string, cursor: string | null): Promise<InventoryPage> {
    const iam = await this.iamFor(account);
    const out = await this.run('GetAccountAuthorizationDetails', (abortSignal) =>
      iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User', 'Group', 'Role'], MaxItems: this.pageSize, Marker: cursor ?? undefined }), { abortSignal }),
    );
    const principals: Principal[] = [
      ...(out.UserDetailList ?? []).map((u): Principal => ({
        kind: 'user', arn: u.Arn!, id: u.UserId!, name: u.UserName!, path: u.Path ?? '/', groups: u.GroupList ?? [],
        inline: (u.UserPolicyList ?? []).map((p) => ({ name: p.PolicyName!, document: decodePolicy(p.PolicyDocument!) })),
        attached: (u.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn!),
      })),
      ...(out.GroupDetailList ?? []).map((g): Principal => ({
        kind: 'group', arn: g.Arn!, id: g.GroupId!, name: g.GroupName!, path: g.Path ?? '/', groups: [],
        inline: (g.GroupPolicyList ?? []).map((p) => ({ name: p.PolicyName!, document: decodePolicy(p.PolicyDocument!) })),
        attached: (g.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn!),
      })),
      ...(out.RoleDetailList ?? []).map((r): Principal => ({
        kind: 'role', arn: r.Arn!, id: r.RoleId!, name: r.RoleName!, path: r.Path ?? '/', groups: [],
        inline: (r.RolePolicyList ?? []).map((p) => ({ name: p.PolicyName!, document: decodePolicy(p.PolicyDocument!) })),
        attached: (r.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn!),
        trustPolicy: r.AssumeRolePolicyDocument ? decodePolicy(r.AssumeRolePolicyDocument) : undefined,
        roleLastUsed: r.RoleLastUsed?.LastUsedDate,
      })),
    ].filter((p) => p.arn && p.name && p.id);

    const catalog = await this.catalog(account, iam, principals, cursor === null);
    // Jobs first, then their results: IAM works on them meanwhile.
    const jobs: (string | undefined)[] = [];
    for (const p of principals) jobs.push(await this.advisor.start(iam, p.arn));
    const usages = await this.advisor.results(iam, jobs);
    const assignments: StandingAssignment[] = [];
    for (const [i, p] of principals.entries()) {
      const usage = usages[i];
      const passwordLastUsed = p.kind === 'user' ? await this.passwordLastUsed(iam, p.name) : undefined;
      assignments.push(...(await this.assignmentsOf(account, p, catalog, usage, passwordLastUsed)));
    }
    return { assignments, cursor: out.IsTruncated && out.Marker ? out.Marker : null };
  }

  /**
   * The account's catalog: reloaded at the start of each part (a new scan sees policy and group
   * changes since the last one), when older than its TTL, and when a group a user belongs to is
   * missing from it. A group still missing after a fresh load (deleted or recreated while the page
   * was read) fails the page as transient, so the scan retries it instead of reporting a
   * membership that grants nothing.
   */
  private async catalog(account: string, iam: IAMClient, principals: Principal[], partStart: boolean): Promise<AccountCatalog> {
    const pending = this.catalogs.get(account);
    let catalog = partStart || !pending ? undefined : await pending.catch(() => undefined);
    const missing = (c: AccountCatalog) => [...new Set(principals.flatMap((p) => p.groups.filter((g) => !c.groups.has(g))))];
    if (!catalog || Date.now() - catalog.loadedAt > CATALOG_TTL_MS || missing(catalog).length) {
      const loading = AccountCatalog.load(iam, this.run, Date.now());
      this.catalogs.set(account, loading);
      catalog = await loading;
      const gone = missing(catalog);
      if (gone.length) {
        this.catalogs.delete(account);
        throw new ProviderError('transient', `IAM group(s) ${gone.join(', ')} in account ${account} changed while the page was read; the page is retried`, { code: 'CatalogChanged' });
      }
    }
    return catalog;
  }

  private async passwordLastUsed(iam: IAMClient, userName: string): Promise<Date | undefined> {
    try {
      const out = await this.run('GetUser', (abortSignal) => iam.send(new GetUserCommand({ UserName: userName }), { abortSignal }));
      return out.User?.PasswordLastUsed;
    } catch (e) {
      // Not allowed (optional permission) or deleted since the listing: no password use to add.
      if (isNoSuchEntity(e) || errorCode(e instanceof ProviderError ? e.options.cause : e) === 'AccessDenied') return undefined;
      throw e;
    }
  }

  private async assignmentsOf(account: string, p: Principal, catalog: AccountCatalog, usage: ServiceUse[] | null, passwordLastUsed: Date | undefined): Promise<StandingAssignment[]> {
    const me = await this.identity.get();
    const principal: StandingPrincipal = {
      id: p.arn,
      kind: p.kind,
      human: p.kind === 'user' ? true : p.kind === 'group' ? null : roleIsHuman(p, p.trustPolicy),
      displayName: p.name,
    };
    const base = { account, principalKind: p.kind, principalName: p.name, principalId: p.id };
    const holdings: Holding[] = [];
    for (const arn of p.attached) {
      const policy = await catalog.policy(arn);
      holdings.push({
        access: { type: 'aws.managed-policy', name: policy?.name ?? arn.split('/').pop()!, id: arn },
        allowed: policy?.allowed,
        key: `managed:${arn}`,
        brokerOwned: false,
        locator: { mechanism: 'managed', ...base, policyArn: arn },
      });
    }
    for (const inline of p.inline) {
      if (inline.name === BROKER_POLICY_NAME && p.kind !== 'group') {
        holdings.push(...brokerPolicyHoldings(inline.document, base));
        continue;
      }
      holdings.push({
        access: { type: 'aws.inline-policy', name: inline.name },
        allowed: safeAllowed(inline.document),
        key: `inline:${inline.name}`,
        brokerOwned: false,
        locator: { mechanism: 'inline', ...base, policyName: inline.name, document: inline.document },
      });
    }
    for (const groupName of p.groups) {
      const group = catalog.groups.get(groupName);
      const groupArn = group?.arn ?? p.arn.replace(/:user\/.*$/, `:group/${groupName}`);
      holdings.push({
        access: { type: 'aws.group-membership', name: groupName, id: groupArn },
        allowed: group?.allowed,
        key: `member-of:${groupArn}`,
        brokerOwned: false,
        locator: { mechanism: 'membership', account, userName: p.name, userId: p.id, groupName, groupId: group?.id },
      });
    }
    const protectedPrincipal = this.isBrokersOwn(p, me.arn) || /^\/(aws-service-role|aws-reserved)\//.test(p.path);
    // Who outside the account may assume the role: the criteria read `locator.externalTrust`.
    const trustedFrom = p.kind === 'role' ? externalTrust(p.trustPolicy, account) : [];
    const principalLastUsed = latest([p.roleLastUsed, passwordLastUsed, ...(usage ?? []).map((s) => s.lastAuthenticated ?? undefined)]);
    return holdings.map((h): StandingAssignment => {
      const granted = usage && h.allowed ? usage.filter((s) => reachesService(h.allowed!, s.namespace)) : null;
      const used = granted?.filter((s) => s.lastAuthenticated) ?? null;
      const lastUsedAt = granted && granted.length ? latest(used!.map((s) => s.lastAuthenticated!)) : principalLastUsed;
      const neverUsed = granted && granted.length ? used!.length === 0 : p.kind === 'role' && !p.roleLastUsed && !usage;
      return {
        cloud: 'aws',
        key: `aws:${account}:${p.arn}:${h.key}`,
        principal,
        scope: `aws:${account}`,
        access: { ...h.access, ...(h.allowed ? { actions: h.allowed.actions, ...(h.allowed.notActions.length ? { notActions: h.allowed.notActions } : {}) } : {}) },
        since: null,
        lastUsedAt,
        neverUsed: neverUsed && !lastUsedAt,
        usage: granted ? { granted: granted.map((s) => s.namespace), used: used!.map((s) => s.namespace), periodDays: TRACKING_PERIOD_DAYS } : null,
        brokerOwned: h.brokerOwned,
        ...(h.brokerGrantIds ? { brokerGrantIds: h.brokerGrantIds } : {}),
        removable: !h.brokerOwned && !h.fixed && !protectedPrincipal,
        locator: trustedFrom.length ? { ...h.locator, externalTrust: trustedFrom } : h.locator,
      };
    });
  }

  /** The broker's own user or role (its credentials) and its member role: reported, never removed through itself. */
  private isBrokersOwn(p: Principal, myArn: string): boolean {
    if (p.kind === 'group') return false;
    if (p.arn === myArn) return true;
    const session = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(myArn);
    if (p.kind === 'role' && session && session[1] === p.name && p.arn.split(':')[4] === myArn.split(':')[4]) return true;
    return p.kind === 'role' && this.options.memberRoleName.split('/').pop() === p.name;
  }
}

/**
 * The broker policy on a user or role, split: the statements the broker wrote (a broker Sid and
 * its `DateLessThan aws:CurrentTime` deadline) are one broker-owned holding naming their grants;
 * whatever else is in it, however it got there, is reported as ordinary standing access. That
 * remainder is not removable through discovery (removing it would mean rewriting the broker's own
 * policy under its grants); the broker's next write to the policy drops it (broker-policy.document.ts).
 */
function brokerPolicyHoldings(document: string, base: { account: string; principalKind: string; principalName: string; principalId: string }): Holding[] {
  let doc: PolicyDocument;
  try {
    doc = parseBrokerPolicy(document);
  } catch {
    return [foreignHolding(document, base)];
  }
  const own = doc.Statement.filter(isBrokerStatement);
  const foreign = foreignStatements(doc);
  const out: Holding[] = [];
  if (own.length) {
    const text = serialize({ Version: POLICY_VERSION, Statement: own });
    out.push({
      access: { type: 'aws.inline-policy', name: BROKER_POLICY_NAME },
      allowed: safeAllowed(text),
      key: `inline:${BROKER_POLICY_NAME}`,
      brokerOwned: true,
      brokerGrantIds: [...new Set(own.map((s) => grantIdFromSid(s.Sid!)).filter((id): id is string => id !== null))],
      locator: { mechanism: 'broker-policy', ...base, sids: own.map((s) => s.Sid!) },
    });
  }
  if (foreign.length) out.push(foreignHolding(serialize({ Version: POLICY_VERSION, Statement: foreign }), base));
  return out;
}

function foreignHolding(document: string, base: { account: string; principalKind: string; principalName: string; principalId: string }): Holding {
  return {
    access: { type: 'aws.inline-policy', name: `${BROKER_POLICY_NAME} (statements not written by the broker)` },
    allowed: safeAllowed(document),
    key: `inline:${BROKER_POLICY_NAME}:foreign`,
    brokerOwned: false,
    fixed: true,
    locator: { mechanism: 'broker-policy-foreign', ...base, document },
  };
}

function safeAllowed(document: string): AllowedActions | undefined {
  try {
    return allowedActions(document);
  } catch {
    return undefined;
  }
}

function latest(dates: (Date | undefined | null)[]): Date | null {
  const times = dates.filter((d): d is Date => d instanceof Date).map((d) => d.getTime());
  return times.length ? new Date(Math.max(...times)) : null;
}

