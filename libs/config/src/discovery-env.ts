import { z } from 'zod';
import { ENV_DOCS, documented } from './env-docs';
import { intVar, optionalVar } from './provider-env';

/** Discovery of standing access (docs/discovery.md). */
export interface DiscoveryConfig {
  /** A cron expression (5 or 6 fields, UTC) for scheduled scans; undefined: on demand only. Checked by the scheduler at start. */
  schedule: string | undefined;
  /** A finding is unused when never used or last used longer ago than this many days. */
  unusedDays: number;
  /** The privilege criteria override (YAML or JSON); undefined: the documented defaults. */
  criteriaFile: string | undefined;
  /** Approvals a removal needs, from admins (and approvers of `removalApproverGroup`) other than its requester. */
  removalApprovals: number;
  /** A rules-file group whose approvers may approve removals too (besides admins). */
  removalApproverGroup: string | undefined;
}

const group = 'discovery' as const;

export const DISCOVERY_ENV_SHAPE = {
  JIT_DISCOVERY_SCHEDULE: documented(optionalVar, {
    group,
    description: 'cron expression (UTC; 5 fields, or 6 with seconds) for scheduled discovery scans, run by one replica at a time (where the sweeper runs)',
    default: '(none: scans on demand only)',
  }),
  JIT_DISCOVERY_UNUSED_DAYS: intVar('JIT_DISCOVERY_UNUSED_DAYS', 1, 3650).register(ENV_DOCS, {
    group,
    description: 'a standing assignment is unused when never used or last used more than this many days ago (the summary and `/metrics`)',
    default: '`90`',
  }),
  JIT_DISCOVERY_CRITERIA_FILE: documented(optionalVar, {
    group,
    description: 'YAML or JSON file overriding the privilege criteria (docs/discovery.md, "Criteria"); read at start',
    default: '(the documented defaults)',
  }),
  JIT_DISCOVERY_REMOVAL_APPROVALS: intVar('JIT_DISCOVERY_REMOVAL_APPROVALS', 1, 10).register(ENV_DOCS, {
    group,
    description: 'approvals a removal of a standing assignment needs, by admins (or approvers of `JIT_DISCOVERY_REMOVAL_APPROVER_GROUP`) other than its requester',
    default: '`1`',
  }),
  JIT_DISCOVERY_REMOVAL_APPROVER_GROUP: documented(optionalVar, {
    group,
    description: 'a group of the rules file whose approvers may also approve or deny removals',
    default: '(none: admins only)',
  }),
};

type DiscoveryEnv = { [K in keyof typeof DISCOVERY_ENV_SHAPE]: z.output<(typeof DISCOVERY_ENV_SHAPE)[K]> };

export function toDiscoveryConfig(e: DiscoveryEnv): DiscoveryConfig {
  return {
    schedule: e.JIT_DISCOVERY_SCHEDULE?.trim() || undefined,
    unusedDays: e.JIT_DISCOVERY_UNUSED_DAYS ?? 90,
    criteriaFile: e.JIT_DISCOVERY_CRITERIA_FILE || undefined,
    removalApprovals: e.JIT_DISCOVERY_REMOVAL_APPROVALS ?? 1,
    removalApproverGroup: e.JIT_DISCOVERY_REMOVAL_APPROVER_GROUP || undefined,
  };
}
