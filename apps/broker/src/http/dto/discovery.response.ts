import { z } from 'zod';
import { CLOUDS, FINDING_STATUSES, STANDING_PRINCIPAL_KINDS, STANDING_REMOVAL_STATES, DiscoveryFinding, DiscoveryScan, StoredRemoval } from '@jit/domain';
import { DiscoverySummary, FindingDetail } from '@jit/discovery';
import { instantOut } from './wire.schemas';

const count = z.number().int().min(0);
const cloud = z.enum(CLOUDS);

export const discoveryScanResponse = z
  .object({
    id: z.uuid(),
    state: z.enum(['running', 'completed', 'failed']),
    trigger: z.enum(['manual', 'schedule']),
    requestedBy: z.string(),
    createdAt: instantOut,
    finishedAt: instantOut.nullable(),
    clouds: z
      .array(
        z.object({
          cloud,
          listed: z.boolean().describe('whether its parts could be listed'),
          error: z.string().nullable(),
          parts: count,
          partsDone: count,
          partsFailed: count,
          pages: count,
          assignments: count,
          errors: count,
        }),
      )
      .describe('progress per cloud'),
    parts: z
      .array(
        z.object({
          cloud,
          part: z.string().describe('an account, subscription, project or tenant'),
          state: z.enum(['pending', 'done', 'failed']),
          pages: count,
          assignments: count,
          errors: count,
          lastError: z.string().nullable(),
          updatedAt: instantOut,
        }),
      )
      .describe('progress per part'),
  })
  .meta({ id: 'DiscoveryScan', description: 'a discovery scan and its progress per cloud and part' });

export function toScanResponse(s: DiscoveryScan): z.infer<typeof discoveryScanResponse> {
  const parts = s.parts.map((p) => ({
    cloud: p.cloud,
    part: p.part,
    state: p.state,
    pages: p.pages,
    assignments: p.assignments,
    errors: p.errors,
    lastError: p.lastError,
    updatedAt: p.updatedAt.toISOString(),
  }));
  return {
    id: s.id,
    state: s.state,
    trigger: s.trigger,
    requestedBy: s.requestedBy,
    createdAt: s.createdAt.toISOString(),
    finishedAt: s.finishedAt?.toISOString() ?? null,
    clouds: s.clouds.map((c) => {
      const of = parts.filter((p) => p.cloud === c.cloud);
      return {
        cloud: c.cloud,
        listed: c.listed,
        error: c.error,
        parts: of.length,
        partsDone: of.filter((p) => p.state === 'done').length,
        partsFailed: of.filter((p) => p.state === 'failed').length,
        pages: of.reduce((n, p) => n + p.pages, 0),
        assignments: of.reduce((n, p) => n + p.assignments, 0),
        errors: of.reduce((n, p) => n + p.errors, 0),
      };
    }),
    parts,
  };
}

export const discoveryFindingResponse = z
  .object({
    id: z.uuid(),
    cloud,
    key: z.string().describe('stable across scans: the same assignment has the same key'),
    principal: z.object({
      id: z.string(),
      kind: z.enum(STANDING_PRINCIPAL_KINDS),
      human: z.boolean().nullable().describe('a person (true), a workload (false), or not known (null: an AWS role, a group)'),
      displayName: z.string().nullable(),
    }),
    scope: z.string(),
    access: z.object({
      type: z.string(),
      name: z.string(),
      id: z.string().nullable(),
      actions: z.array(z.string()).nullable(),
      notActions: z.array(z.string()).nullable(),
    }),
    privileged: z.boolean(),
    reasons: z.array(z.string()).describe('the privilege criteria that matched'),
    status: z.enum(FINDING_STATUSES),
    since: instantOut.nullable().describe('when the assignment was made, where the cloud records it'),
    lastUsedAt: instantOut.nullable(),
    neverUsed: z.boolean(),
    unusedDays: z.number().int().nullable().describe('days since last use (null when unknown; never used counts from since, else null)'),
    usage: z.object({ granted: z.array(z.string()), used: z.array(z.string()), unused: z.array(z.string()), periodDays: z.number() }).nullable(),
    removable: z.boolean(),
    firstSeenAt: instantOut,
    lastSeenAt: instantOut,
    resolvedAt: instantOut.nullable(),
  })
  .meta({ id: 'DiscoveryFinding', description: 'a standing assignment as discovery judged it, tracked across scans' });

export type DiscoveryFindingResponse = z.infer<typeof discoveryFindingResponse>;

const DAY_MS = 86_400_000;

export function toFindingResponse(f: DiscoveryFinding, now: Date): DiscoveryFindingResponse {
  const from = f.lastUsedAt ?? (f.neverUsed ? f.since : null);
  return {
    id: f.id,
    cloud: f.cloud,
    key: f.key,
    principal: { id: f.principal.id, kind: f.principal.kind, human: f.principal.human, displayName: f.principal.displayName ?? null },
    scope: f.scope,
    access: { type: f.access.type, name: f.access.name, id: f.access.id ?? null, actions: f.access.actions ?? null, notActions: f.access.notActions ?? null },
    privileged: f.privileged,
    reasons: f.reasons,
    status: f.status,
    since: f.since?.toISOString() ?? null,
    lastUsedAt: f.lastUsedAt?.toISOString() ?? null,
    neverUsed: f.neverUsed ?? false,
    unusedDays: from ? Math.max(0, Math.floor((now.getTime() - from.getTime()) / DAY_MS)) : null,
    usage: f.usage ? { ...f.usage, unused: f.usage.granted.filter((g) => !f.usage!.used.includes(g)) } : null,
    removable: f.removable,
    firstSeenAt: f.firstSeenAt.toISOString(),
    lastSeenAt: f.lastSeenAt.toISOString(),
    resolvedAt: f.resolvedAt?.toISOString() ?? null,
  };
}

export const discoveryFindingPageResponse = z
  .object({ items: z.array(discoveryFindingResponse), nextCursor: z.string().nullable() })
  .meta({ id: 'DiscoveryFindingPage', description: 'a page of findings in id order' });

export const standingRemovalResponse = z
  .object({
    id: z.uuid(),
    findingId: z.uuid(),
    state: z.enum(STANDING_REMOVAL_STATES),
    requestedBy: z.string(),
    justification: z.string(),
    origin: z.string().describe('discovery, or review:<campaign id>'),
    approvals: z.array(z.object({ by: z.string(), at: instantOut, comment: z.string().nullable() })),
    required: count,
    decidedBy: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: instantOut,
    updatedAt: instantOut,
    appliedAt: instantOut.nullable(),
    restoredAt: instantOut.nullable(),
  })
  .meta({ id: 'StandingRemoval', description: 'the removal of a standing assignment: approvals, what was applied, and whether it was restored' });

export function toRemovalResponse(r: StoredRemoval): z.infer<typeof standingRemovalResponse> {
  return {
    id: r.id,
    findingId: r.findingId,
    state: r.state,
    requestedBy: r.requestedBy,
    justification: r.justification,
    origin: r.origin,
    approvals: r.approvals.map((a) => ({ by: a.by, at: a.at.toISOString(), comment: a.comment })),
    required: r.required,
    decidedBy: r.decidedBy,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    appliedAt: r.appliedAt?.toISOString() ?? null,
    restoredAt: r.restoredAt?.toISOString() ?? null,
  };
}

export const discoveryFindingDetailResponse = z
  .object({
    finding: discoveryFindingResponse,
    proposedRule: z
      .object({
        rule: z.record(z.string(), z.unknown()).describe('the entry, to paste under rules:'),
        file: z.string().describe('a whole rules file (YAML) holding the entry and the groups it names, for npm run rules'),
        narrowed: z.boolean().describe('the entry asks for less than the assignment gives (the used subset)'),
        accepted: z.boolean().describe("whether the broker's rules checker accepts the file"),
        issues: z.array(z.string()),
        notes: z.array(z.string()),
      })
      .describe('a rules-file entry that would make the same access requestable just in time'),
    history: z.array(z.object({ at: instantOut, change: z.string(), scanId: z.uuid().nullable(), detail: z.record(z.string(), z.unknown()) })),
    removals: z.array(standingRemovalResponse),
  })
  .meta({ id: 'DiscoveryFindingDetail', description: 'a finding with its proposed rule, history and removals' });

export function toFindingDetailResponse(d: FindingDetail, now: Date): z.infer<typeof discoveryFindingDetailResponse> {
  return {
    finding: toFindingResponse(d.finding, now),
    proposedRule: d.proposedRule,
    history: d.history.map((h) => ({ at: h.at.toISOString(), change: h.change, scanId: h.scanId, detail: h.detail })),
    removals: d.removals.map(toRemovalResponse),
  };
}

export const discoverySummaryResponse = z
  .object({
    unusedDays: count.describe('JIT_DISCOVERY_UNUSED_DAYS: unused means never used or not used for this many days'),
    lastScan: discoveryScanResponse.nullable(),
    clouds: z.array(
      z.object({
        cloud,
        open: count.describe('open findings'),
        privileged: count.describe('standing privileged assignments'),
        privilegedUnused: count.describe('of them, unused for unusedDays or never used'),
        privilegedHumans: count,
        privilegedWorkloads: count,
        privilegedUnknown: count.describe('held by principals the cloud does not say are people or workloads (AWS roles, groups)'),
        eligiblePrivileged: count.describe('eligibility (Azure PIM) to privileged access: not held until activated, so not in the counts above'),
      }),
    ),
  })
  .meta({ id: 'DiscoverySummary', description: 'standing privilege per cloud, from the open findings' });

export function toSummaryResponse(s: DiscoverySummary): z.infer<typeof discoverySummaryResponse> {
  return { unusedDays: s.unusedDays, lastScan: s.lastScan && toScanResponse(s.lastScan), clouds: s.clouds };
}
