import { GetAccountAuthorizationDetailsCommand, GetPolicyCommand, GetPolicyVersionCommand, IAMClient } from '@aws-sdk/client-iam';
import { isNoSuchEntity } from './aws-error.classifier';
import { CallRunner } from './inline-policy.client';
import { AllowedActions, allowedActions, decodePolicy, mergeAllowed } from './standing-policy';

export interface CatalogPolicy {
  arn: string;
  name: string;
  allowed: AllowedActions;
}

export interface CatalogGroup {
  arn: string;
  /** IAM's `GroupId`: a group recreated under the same name has another. */
  id: string;
  name: string;
  /** The group's inline and attached managed policies together. */
  allowed: AllowedActions;
}

/**
 * How long an account's catalog of managed policies and groups is reused: one scan's pages
 * share it, and a policy or group it lacks is looked up (or the catalog reloaded) on demand.
 */
export const CATALOG_TTL_MS = 10 * 60_000;
/** The listing's largest page (the model's MaxItems bound). */
const CATALOG_PAGE = 1_000;

/**
 * One account's managed policies (default versions) and groups, read with
 * `GetAccountAuthorizationDetails` filtered to them: a principal's page names the policies and
 * groups it holds, whose documents the listing may return on another page.
 */
export class AccountCatalog {
  readonly policies = new Map<string, CatalogPolicy>();
  readonly groups = new Map<string, CatalogGroup>();
  readonly loadedAt: number;

  private constructor(
    private readonly iam: IAMClient,
    private readonly run: CallRunner,
    now: number,
  ) {
    this.loadedAt = now;
  }

  static async load(iam: IAMClient, run: CallRunner, now: number): Promise<AccountCatalog> {
    const catalog = new AccountCatalog(iam, run, now);
    const groups: { arn: string; id: string; name: string; inline: string[]; attached: string[] }[] = [];
    let marker: string | undefined;
    do {
      const out = await run('GetAccountAuthorizationDetails', (abortSignal) =>
        iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Group', 'LocalManagedPolicy', 'AWSManagedPolicy'], MaxItems: CATALOG_PAGE, Marker: marker }), { abortSignal }),
      );
      for (const p of out.Policies ?? []) {
        const version = p.PolicyVersionList?.find((v) => v.IsDefaultVersion) ?? p.PolicyVersionList?.find((v) => v.VersionId === p.DefaultVersionId);
        if (!p.Arn || !p.PolicyName || !version?.Document) continue;
        catalog.policies.set(p.Arn, { arn: p.Arn, name: p.PolicyName, allowed: allowedActions(version.Document) });
      }
      for (const g of out.GroupDetailList ?? []) {
        if (!g.Arn || !g.GroupName || !g.GroupId) continue;
        groups.push({
          arn: g.Arn,
          id: g.GroupId,
          name: g.GroupName,
          inline: (g.GroupPolicyList ?? []).map((p) => p.PolicyDocument ?? '').filter(Boolean),
          attached: (g.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn ?? '').filter(Boolean),
        });
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    for (const g of groups) {
      const attached = await Promise.all(g.attached.map((arn) => catalog.policy(arn)));
      const allowed = mergeAllowed([...g.inline.map((d) => allowedActions(d)), ...attached.flatMap((p) => (p ? [p.allowed] : []))]);
      catalog.groups.set(g.name, { arn: g.arn, id: g.id, name: g.name, allowed });
    }
    return catalog;
  }

  /** A managed policy's default version, from the listing or else `GetPolicy` + `GetPolicyVersion`; undefined if it is gone. */
  async policy(arn: string): Promise<CatalogPolicy | undefined> {
    const known = this.policies.get(arn);
    if (known) return known;
    try {
      const { Policy } = await this.run('GetPolicy', (abortSignal) => this.iam.send(new GetPolicyCommand({ PolicyArn: arn }), { abortSignal }));
      if (!Policy?.DefaultVersionId || !Policy.PolicyName) return undefined;
      const { PolicyVersion } = await this.run('GetPolicyVersion', (abortSignal) =>
        this.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy.DefaultVersionId }), { abortSignal }),
      );
      if (!PolicyVersion?.Document) return undefined;
      const entry = { arn, name: Policy.PolicyName, allowed: allowedActions(decodePolicy(PolicyVersion.Document)) };
      this.policies.set(arn, entry);
      return entry;
    } catch (e) {
      if (isNoSuchEntity(e)) return undefined;
      throw e;
    }
  }
}
