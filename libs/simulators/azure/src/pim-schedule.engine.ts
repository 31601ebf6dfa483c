import { randomUUID } from 'node:crypto';
import { SimHttpError } from './sim-http';
import { SimRolePolicy } from './sim-state';

/** Which PIM API a schedule belongs to: Graph directory roles, Graph PIM for Groups, or ARM. */
export type PimSurface = 'directory' | 'group' | 'arm';
export type PimAction = 'assign' | 'update' | 'extend' | 'remove';

export interface PimSchedule {
  id: string;
  surface: PimSurface;
  /** Role and scope, surface-specific (`roleId|scope`, `groupId|access`). */
  targetKey: string;
  principalId: string;
  start: Date;
  end: Date | null;
  /** When PIM made the assignment: its removal is refused for `removalWindowMs` after. */
  createdAt: Date;
  /** `Activated` (a member activated an eligibility) or `Assigned` (an admin assigned it; the default). */
  assignmentType?: 'Activated' | 'Assigned';
  /** ARM's ABAC condition on the assignment (and its version), from the request that made it. */
  condition?: string | null;
  conditionVersion?: string | null;
}

export interface PimRequestRecord {
  id: string;
  surface: PimSurface;
  targetKey: string;
  principalId: string;
  action: PimAction;
  status: string;
  start: Date;
  end: Date | null;
  createdAt: Date;
  completedAt: Date | null;
  approvalId: string | null;
  targetScheduleId: string | null;
  /** The request body as the caller sent it, echoed back on reads. */
  wire: Record<string, unknown>;
  requestorId: string;
  readyAt?: number;
}

export interface PimSubmission {
  id?: string;
  surface: PimSurface;
  targetKey: string;
  principalId: string;
  action: PimAction;
  start: Date;
  end: Date | null;
  policy: SimRolePolicy;
  wire: Record<string, unknown>;
  requestorId: string;
  newScheduleId?: () => string;
}

/** PIM's floor for an active assignment: shorter ones are refused (entra-docs `pim-resource-roles-assign-roles.md`). */
export const PIM_MINIMUM_DURATION_MS = 5 * 60_000;
/** How long after an assignment is made PIM refuses to remove it (same pages). */
export const PIM_REMOVAL_WINDOW_MS = 5 * 60_000;

/** Graph and ARM answer both five-minute rules with this code and message (as clients quote it, typo included). */
function activeDurationTooShort(): SimHttpError {
  return new SimHttpError(400, 'ActiveDurationTooShort', 'The Active duration is too short. Miniumum Required is 5 minutes.');
}

export interface PimEngineOptions {
  /**
   * The removal window; PIM's is five minutes. Tests that are not about the window (they revoke
   * right after granting) may shorten it; nothing else is configurable.
   */
  removalWindowMs?: number;
}

/**
 * PIM's one-schedule-per-(principal, role, scope) model: requests create, update or remove
 * that schedule, subject to the role's policy; instances are the schedules active at a time.
 */
export class PimScheduleEngine {
  private readonly schedules = new Map<string, PimSchedule>();
  readonly requests = new Map<string, PimRequestRecord>();
  private readonly removalWindowMs: number;

  constructor(options: PimEngineOptions = {}) {
    this.removalWindowMs = options.removalWindowMs ?? PIM_REMOVAL_WINDOW_MS;
  }

  submit(s: PimSubmission): PimRequestRecord {
    this.settle();
    const key = this.key(s.surface, s.targetKey, s.principalId);
    const existing = this.liveSchedule(key);
    const conflictStatus = s.surface === 'arm' ? 409 : 400;
    if (s.action === 'assign' && existing) {
      throw new SimHttpError(conflictStatus, 'RoleAssignmentExists', 'The Role assignment already exists.');
    }
    if (s.action !== 'assign' && !existing) {
      throw new SimHttpError(400, 'RoleAssignmentDoesNotExist', 'The Role assignment does not exist.');
    }
    if (s.action !== 'remove' && this.pendingFor(key)) {
      throw new SimHttpError(400, 'PendingRoleAssignmentRequest', 'There is already an existing pending Role assignment request.');
    }
    const now = new Date();
    if (s.action === 'remove' && existing && now.getTime() - existing.createdAt.getTime() < this.removalWindowMs) throw activeDurationTooShort();
    if (s.action !== 'remove' && s.end !== null && s.end.getTime() - s.start.getTime() < PIM_MINIMUM_DURATION_MS) throw activeDurationTooShort();
    if (s.action !== 'remove') this.checkExpiration(s);
    const req: PimRequestRecord = {
      id: s.id ?? randomUUID(),
      surface: s.surface,
      targetKey: s.targetKey,
      principalId: s.principalId,
      action: s.action,
      status: 'Provisioned',
      start: s.start,
      end: s.end,
      createdAt: now,
      completedAt: null,
      approvalId: null,
      targetScheduleId: existing?.id ?? null,
      wire: s.wire,
      requestorId: s.requestorId,
    };
    this.requests.set(req.id, req);
    if (s.action === 'remove') {
      this.schedules.delete(key);
      req.status = 'Revoked';
      req.completedAt = now;
      return req;
    }
    if (s.policy.approvalRequired) {
      req.status = 'PendingApproval';
      req.approvalId = req.id;
    } else if (s.policy.provisioningDelayMs) {
      req.status = 'PendingProvisioning';
      req.readyAt = Date.now() + s.policy.provisioningDelayMs;
    } else {
      this.apply(req, s.newScheduleId);
    }
    return req;
  }

  /** The request as a reader sees it now (a delayed provisioning completes on read). */
  get(id: string): PimRequestRecord | undefined {
    const req = this.requests.get(id);
    if (req?.status === 'PendingProvisioning' && req.readyAt !== undefined && req.readyAt <= Date.now()) this.apply(req);
    return req;
  }

  list(surface: PimSurface): PimRequestRecord[] {
    return [...this.requests.values()].filter((r) => r.surface === surface).map((r) => this.get(r.id)!);
  }

  /** An approver's decision (approvals are delegated-only in PIM, so tests decide through here). */
  decide(id: string, approve: boolean): void {
    const req = this.requests.get(id);
    if (!req || req.status !== 'PendingApproval') throw new Error(`no request pending approval with id ${id}`);
    if (approve) this.apply(req);
    else {
      req.status = 'Denied';
      req.completedAt = new Date();
    }
  }

  cancel(id: string): void {
    const req = this.get(id);
    if (!req) throw new SimHttpError(404, 'RoleAssignmentScheduleRequestNotFound', `Request ${id} was not found.`);
    if (!req.status.startsWith('Pending')) {
      throw new SimHttpError(400, 'InvalidOperation', `Request ${id} in status ${req.status} cannot be canceled.`);
    }
    req.status = 'Canceled';
    req.completedAt = new Date();
  }

  /** Puts a schedule in place as if PIM had made it (a member's activation, an admin's permanent assignment), for tests and the sandbox. */
  seed(schedule: PimSchedule): void {
    this.schedules.set(this.key(schedule.surface, schedule.targetKey, schedule.principalId), schedule);
  }

  /** Ends a schedule at once: its role assignment was deleted outside PIM (Graph's `DELETE roleAssignments/{id}`). */
  drop(surface: PimSurface, id: string): boolean {
    for (const [key, s] of this.schedules) {
      if (s.surface === surface && s.id === id) return this.schedules.delete(key);
    }
    return false;
  }

  /** Schedules active at `at`: the "instances" of PIM. */
  instances(surface: PimSurface, at: Date = new Date()): PimSchedule[] {
    this.settle();
    return [...this.schedules.values()].filter((s) => s.surface === surface && isActive(s, at));
  }

  /** Every schedule still able to grant something (used by `holds` at future times). */
  schedulesOf(surface: PimSurface): PimSchedule[] {
    this.settle();
    return [...this.schedules.values()].filter((s) => s.surface === surface);
  }

  private settle(): void {
    for (const r of this.requests.values()) if (r.status === 'PendingProvisioning') this.get(r.id);
  }

  private apply(req: PimRequestRecord, newScheduleId?: () => string): void {
    const key = this.key(req.surface, req.targetKey, req.principalId);
    const existing = this.liveSchedule(key);
    if (req.action === 'assign') {
      const schedule: PimSchedule = {
        id: newScheduleId?.() ?? randomUUID(),
        surface: req.surface,
        targetKey: req.targetKey,
        principalId: req.principalId,
        start: req.start,
        end: req.end,
        createdAt: new Date(),
        ...(typeof req.wire.condition === 'string' ? { condition: req.wire.condition, conditionVersion: typeof req.wire.conditionVersion === 'string' ? req.wire.conditionVersion : null } : {}),
      };
      this.schedules.set(key, schedule);
      req.targetScheduleId = schedule.id;
    } else if (existing) {
      existing.start = req.start < existing.start ? req.start : existing.start;
      existing.end = req.end;
      req.targetScheduleId = existing.id;
    }
    req.status = 'Provisioned';
    req.completedAt = new Date();
    delete req.readyAt;
  }

  private checkExpiration(s: PimSubmission): void {
    const max = s.policy.maxDurationSeconds;
    if (max === undefined) return;
    const seconds = s.end === null ? Infinity : (s.end.getTime() - Math.max(s.start.getTime(), Date.now() - 300_000)) / 1000;
    if (seconds > max) {
      throw new SimHttpError(400, 'RoleAssignmentRequestPolicyValidationFailed', 'The following policy rules failed: ["ExpirationRule"]');
    }
  }

  private liveSchedule(key: string): PimSchedule | undefined {
    const s = this.schedules.get(key);
    if (s && s.end !== null && s.end.getTime() <= Date.now()) {
      this.schedules.delete(key);
      return undefined;
    }
    return s;
  }

  private pendingFor(key: string): PimRequestRecord | undefined {
    return [...this.requests.values()].find(
      (r) => this.key(r.surface, r.targetKey, r.principalId) === key && (r.status === 'PendingApproval' || r.status === 'PendingProvisioning'),
    );
  }

  private key(surface: PimSurface, targetKey: string, principalId: string): string {
    return `${surface}|${targetKey.toLowerCase()}|${principalId.toLowerCase()}`;
  }
}

export function isActive(s: { start: Date; end: Date | null }, at: Date): boolean {
  return s.start.getTime() <= at.getTime() && (s.end === null || at.getTime() < s.end.getTime());
}
