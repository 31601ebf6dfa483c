import { GrantSpec, OwnedArtifact, ProvisionOutcome, ProvisionStatus } from '@jit/domain';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpClient } from './azure-http.client';
import { AzureHttpError } from './azure-http.error';
import { AzureMechanism } from './azure-mechanism';
import { LEDGER_MARKER, LedgerEntry, ledgerTag, parseLedgerTag, standingTag } from './app-role-ledger';

interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
}

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

type AppRoleSpec = GrantSpec & { target: { kind: 'azure.app-role'; resourceServicePrincipalId: string; appRoleId: string } };

const NAME = 'Graph app role assignment';
const NO_EXPIRY_NOTICE = 'App role assignments have no cloud-side expiry: access ends when the broker deletes the assignment (sweeper).';

/** App roles for workloads through `servicePrincipals/{resource}/appRoleAssignedTo` (cloud-apis.md A4). */
export class AppRoleMechanism implements AzureMechanism {
  constructor(
    private readonly http: AzureHttpClient,
    private readonly calls: AzureCallPolicy,
  ) {}

  async grant(spec: GrantSpec): Promise<ProvisionOutcome> {
    const s = spec as AppRoleSpec;
    const e = entry(s);
    const resource = s.target.resourceServicePrincipalId.toLowerCase();
    const tags = await this.tags(resource);
    const existing = await this.find(e, resource);
    const otherGrants = tags.map(parseLedgerTag).filter((t) => t && t.grantId !== e.grantId && t.principalId === e.principalId && t.appRoleId === e.appRoleId);
    const standing = existing && !tags.includes(ledgerTag(e)) && otherGrants.length === 0 ? [standingTag(e.principalId, e.appRoleId)] : [];
    await this.setTags(resource, [...new Set([...tags, LEDGER_MARKER, ledgerTag(e), ...standing])], tags);
    if (existing) return { status: 'active', providerRef: { appRoleAssignmentId: existing.id }, notice: NO_EXPIRY_NOTICE };
    try {
      const created = await this.calls.run(`${NAME}: create`, () => this.http.graphCall<AppRoleAssignment>('POST', `/servicePrincipals/${resource}/appRoleAssignedTo`, {
        principalId: e.principalId,
        resourceId: resource,
        appRoleId: e.appRoleId,
      }), { namesPrincipal: true });
      return { status: 'active', providerRef: { appRoleAssignmentId: created.id }, notice: NO_EXPIRY_NOTICE };
    } catch (err) {
      // Created concurrently by an overlapping grant: it is the same access.
      if (err instanceof AzureHttpError && /already exists/i.test(err.message)) {
        const now = await this.find(e, resource);
        if (now) return { status: 'active', providerRef: { appRoleAssignmentId: now.id }, notice: NO_EXPIRY_NOTICE };
      }
      throw toProviderError(err, `${NAME}: grant`);
    }
  }

  async revoke(spec: GrantSpec, overlapping: GrantSpec[]): Promise<void> {
    const s = spec as AppRoleSpec;
    const e = entry(s);
    const resource = s.target.resourceServicePrincipalId.toLowerCase();
    const survivors = overlapping.filter((g) => g.grantId !== s.grantId && g.expiresAt.getTime() > this.calls.now().getTime());
    const tags = await this.tags(resource);
    if (!survivors.length && !tags.includes(standingTag(e.principalId, e.appRoleId))) await this.deleteAssignment(e, resource);
    // The ledger entry goes last, so a crash before here leaves it for reconciliation.
    if (tags.includes(ledgerTag(e))) await this.setTags(resource, tags.filter((t) => t !== ledgerTag(e)), tags);
  }

  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    const s = spec as AppRoleSpec;
    const found = await this.find(entry(s), s.target.resourceServicePrincipalId.toLowerCase());
    return found ? { status: 'active', providerRef: { appRoleAssignmentId: found.id } } : { status: 'absent' };
  }

  async *listOwned(): AsyncIterable<OwnedArtifact> {
    let next: string | undefined = `/servicePrincipals?$filter=${encodeURIComponent(`tags/any(t:t eq '${LEDGER_MARKER}')`)}&$select=id,tags`;
    while (next) {
      const url: string = next;
      const page = await this.run('list service principals with ledger tags', () => this.http.graphCall<Page<{ id: string; tags: string[] }>>('GET', url));
      for (const sp of page.value) {
        for (const e of sp.tags.map(parseLedgerTag)) {
          if (!e || !(await this.find(e, sp.id.toLowerCase()))) continue;
          yield {
            grantId: e.grantId,
            artifactName: `jit-broker/${e.grantId}`,
            locator: { resourceServicePrincipalId: sp.id.toLowerCase(), ...e },
            description: `${NAME} of app role ${e.appRoleId} on ${sp.id} to ${e.principalId}`,
          };
        }
      }
      next = page['@odata.nextLink'];
    }
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    const l = artifact.locator as unknown as LedgerEntry & { resourceServicePrincipalId: string };
    const tags = await this.tags(l.resourceServicePrincipalId);
    if (!tags.includes(standingTag(l.principalId, l.appRoleId))) await this.deleteAssignment(l, l.resourceServicePrincipalId);
    if (tags.includes(ledgerTag(l))) await this.setTags(l.resourceServicePrincipalId, tags.filter((t) => t !== ledgerTag(l)), tags);
  }

  private async find(e: LedgerEntry, resource: string): Promise<AppRoleAssignment | undefined> {
    let next: string | undefined = `/servicePrincipals/${resource}/appRoleAssignedTo?$filter=${encodeURIComponent(`principalId eq ${e.principalId}`)}`;
    while (next) {
      const url: string = next;
      const page = await this.run('list app role assignments', () => this.http.graphCall<Page<AppRoleAssignment>>('GET', url));
      const hit = page.value.find((a) => a.principalId.toLowerCase() === e.principalId && a.appRoleId.toLowerCase() === e.appRoleId);
      if (hit) return hit;
      next = page['@odata.nextLink'];
    }
    return undefined;
  }

  private async deleteAssignment(e: LedgerEntry, resource: string): Promise<void> {
    const found = await this.find(e, resource);
    if (!found) return;
    try {
      await this.calls.run(`${NAME}: delete`, () => this.http.graphCall('DELETE', `/servicePrincipals/${resource}/appRoleAssignedTo/${encodeURIComponent(found.id)}`));
    } catch (err) {
      if (err instanceof AzureHttpError && err.status === 404) return;
      throw toProviderError(err, `${NAME}: delete`);
    }
  }

  private async tags(resource: string): Promise<string[]> {
    const sp = await this.run('read the resource service principal', () => this.http.graphCall<{ tags?: string[] }>('GET', `/servicePrincipals/${resource}?$select=id,tags`));
    return sp.tags ?? [];
  }

  private async setTags(resource: string, tags: string[], before: string[]): Promise<void> {
    if (tags.length === before.length && tags.every((t, i) => t === before[i])) return;
    await this.run('update the ledger tags', () => this.http.graphCall('PATCH', `/servicePrincipals/${resource}`, { tags }));
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.calls.run(`${NAME}: ${what}`, fn);
    } catch (e) {
      throw toProviderError(e, `${NAME}: ${what}`);
    }
  }
}

function entry(s: AppRoleSpec): LedgerEntry {
  return { grantId: s.grantId, principalId: s.principal.id.toLowerCase(), appRoleId: s.target.appRoleId.toLowerCase() };
}
