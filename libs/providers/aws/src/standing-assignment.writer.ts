import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachRolePolicyCommand, AttachUserPolicyCommand, DeleteGroupPolicyCommand, DeleteRolePolicyCommand,
  DeleteUserPolicyCommand, DetachGroupPolicyCommand, DetachRolePolicyCommand, DetachUserPolicyCommand, GetGroupCommand, GetGroupPolicyCommand, GetRoleCommand,
  GetRolePolicyCommand, GetUserCommand, GetUserPolicyCommand, IAMClient, PutGroupPolicyCommand, PutRolePolicyCommand, PutUserPolicyCommand, RemoveUserFromGroupCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { ProviderError } from '@jit/domain';
import { isNoSuchEntity } from './aws-error.classifier';
import { CallRunner } from './inline-policy.client';
import { decodePolicy } from './standing-policy';

const NAME = /^[\w+=,.@-]{1,128}$/;
/** IAM's unique ids (`AIDA…`, `AROA…`, `AGPA…`): a principal deleted and recreated under its name gets a new one. */
const UNIQUE_ID = /^[\w]{16,128}$/;

/** What `remove` and `restore` need, as `page` stores it in `StandingAssignment.locator`. */
export const standingLocatorSchema = z.discriminatedUnion('mechanism', [
  z.object({
    mechanism: z.literal('managed'),
    account: z.string().regex(/^\d{12}$/),
    principalKind: z.enum(['role', 'user', 'group']),
    principalName: z.string().regex(NAME),
    principalId: z.string().regex(UNIQUE_ID),
    policyArn: z.string().regex(/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\//),
  }),
  z.object({
    mechanism: z.literal('inline'),
    account: z.string().regex(/^\d{12}$/),
    principalKind: z.enum(['role', 'user', 'group']),
    principalName: z.string().regex(NAME),
    principalId: z.string().regex(UNIQUE_ID),
    policyName: z.string().regex(NAME),
    /** The document as the scan read it (decoded JSON text): restore puts back exactly this. */
    document: z.string().min(1),
  }),
  z.object({
    mechanism: z.literal('membership'),
    account: z.string().regex(/^\d{12}$/),
    userName: z.string().regex(NAME),
    userId: z.string().regex(UNIQUE_ID),
    groupName: z.string().regex(NAME),
    groupId: z.string().regex(UNIQUE_ID),
  }),
]);
export type StandingLocator = z.infer<typeof standingLocatorSchema>;

export function parseLocator(locator: Record<string, unknown>): StandingLocator {
  const parsed = standingLocatorSchema.safeParse(locator);
  if (!parsed.success) throw new ProviderError('invalid', `not a standing assignment listed by the AWS inventory: ${parsed.error.issues[0]?.message}`, { field: 'locator' });
  return parsed.data;
}

const same = (a: string, b: string) => {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
};

/**
 * Removes and restores one standing assignment with the IAM calls that made it: detach / attach a
 * managed policy, delete / put an inline policy (refusing to delete one changed since the scan),
 * remove a user from / add it to a group. Absent means removed; present means restored.
 */
export class StandingAssignmentWriter {
  constructor(private readonly run: CallRunner) {}

  async remove(iam: IAMClient, l: StandingLocator): Promise<void> {
    try {
      await this.checkPrincipals(iam, l);
      switch (l.mechanism) {
        case 'managed': {
          const input = { PolicyArn: l.policyArn };
          await this.run(`Detach${noun(l.principalKind)}Policy`, (abortSignal) =>
            l.principalKind === 'role' ? iam.send(new DetachRolePolicyCommand({ ...input, RoleName: l.principalName }), { abortSignal })
              : l.principalKind === 'user' ? iam.send(new DetachUserPolicyCommand({ ...input, UserName: l.principalName }), { abortSignal })
                : iam.send(new DetachGroupPolicyCommand({ ...input, GroupName: l.principalName }), { abortSignal }),
          );
          return;
        }
        case 'inline': {
          const current = await this.inlineDocument(iam, l);
          if (current === undefined) return;
          if (!same(current, l.document)) {
            throw new ProviderError(
              'terminal',
              `the inline policy ${l.policyName} on ${l.principalKind} ${l.principalName} changed since the scan; scan again before removing it, so that restoring it puts back what is there now`,
              { code: 'ChangedSinceScan' },
            );
          }
          const input = { PolicyName: l.policyName };
          await this.run(`Delete${noun(l.principalKind)}Policy`, (abortSignal) =>
            l.principalKind === 'role' ? iam.send(new DeleteRolePolicyCommand({ ...input, RoleName: l.principalName }), { abortSignal })
              : l.principalKind === 'user' ? iam.send(new DeleteUserPolicyCommand({ ...input, UserName: l.principalName }), { abortSignal })
                : iam.send(new DeleteGroupPolicyCommand({ ...input, GroupName: l.principalName }), { abortSignal }),
          );
          return;
        }
        case 'membership':
          await this.run('RemoveUserFromGroup', (abortSignal) => iam.send(new RemoveUserFromGroupCommand({ GroupName: l.groupName, UserName: l.userName }), { abortSignal }));
          return;
      }
    } catch (e) {
      if (!isNoSuchEntity(e)) throw e;
    }
  }

  async restore(iam: IAMClient, l: StandingLocator): Promise<void> {
    try {
      await this.checkPrincipals(iam, l);
      switch (l.mechanism) {
        case 'managed': {
          const input = { PolicyArn: l.policyArn };
          await this.run(`Attach${noun(l.principalKind)}Policy`, (abortSignal) =>
            l.principalKind === 'role' ? iam.send(new AttachRolePolicyCommand({ ...input, RoleName: l.principalName }), { abortSignal })
              : l.principalKind === 'user' ? iam.send(new AttachUserPolicyCommand({ ...input, UserName: l.principalName }), { abortSignal })
                : iam.send(new AttachGroupPolicyCommand({ ...input, GroupName: l.principalName }), { abortSignal }),
          );
          return;
        }
        case 'inline': {
          // Put back only where nothing took the name since: a policy made after the removal is someone else's.
          const current = await this.inlineDocument(iam, l);
          if (current !== undefined) {
            if (same(current, l.document)) return;
            throw new ProviderError(
              'terminal',
              `cannot restore: ${l.principalKind} ${l.principalName} has another inline policy named ${l.policyName} since the removal; ` +
                'rename or delete it first, or leave the removal in place',
              { field: 'locator', code: 'PolicyNameTaken' },
            );
          }
          const input = { PolicyName: l.policyName, PolicyDocument: l.document };
          await this.run(`Put${noun(l.principalKind)}Policy`, (abortSignal) =>
            l.principalKind === 'role' ? iam.send(new PutRolePolicyCommand({ ...input, RoleName: l.principalName }), { abortSignal })
              : l.principalKind === 'user' ? iam.send(new PutUserPolicyCommand({ ...input, UserName: l.principalName }), { abortSignal })
                : iam.send(new PutGroupPolicyCommand({ ...input, GroupName: l.principalName }), { abortSignal }),
          );
          return;
        }
        case 'membership':
          await this.run('AddUserToGroup', (abortSignal) => iam.send(new AddUserToGroupCommand({ GroupName: l.groupName, UserName: l.userName }), { abortSignal }));
          return;
      }
    } catch (e) {
      if (isNoSuchEntity(e)) {
        throw new ProviderError('terminal', `cannot restore: ${e instanceof Error ? e.message : String(e)} (the principal, group or policy no longer exists)`, { code: 'NoSuchEntity', cause: e });
      }
      throw e;
    }
  }

  /**
   * IAM acts on names: a principal or group deleted and recreated under the same name since the
   * scan is someone else, and is left alone. A deleted one throws NoSuchEntity (removed / cannot restore).
   */
  private async checkPrincipals(iam: IAMClient, l: StandingLocator): Promise<void> {
    if (l.mechanism === 'membership') {
      await this.checkId(iam, 'user', l.userName, l.userId);
      await this.checkId(iam, 'group', l.groupName, l.groupId);
    } else {
      await this.checkId(iam, l.principalKind, l.principalName, l.principalId);
    }
  }

  private async checkId(iam: IAMClient, kind: 'role' | 'user' | 'group', name: string, expected: string): Promise<void> {
    const id = await this.run<string | undefined>(`Get${noun(kind)}`, async (abortSignal) =>
      kind === 'role' ? (await iam.send(new GetRoleCommand({ RoleName: name }), { abortSignal })).Role?.RoleId
        : kind === 'user' ? (await iam.send(new GetUserCommand({ UserName: name }), { abortSignal })).User?.UserId
          : (await iam.send(new GetGroupCommand({ GroupName: name, MaxItems: 1 }), { abortSignal })).Group?.GroupId,
    );
    if (id !== expected) {
      throw new ProviderError(
        'terminal',
        `the IAM ${kind} ${name} is not the one the scan found (id ${expected}, now ${id ?? 'none'}): it was deleted and recreated under the same name; scan again`,
        { field: 'locator', code: 'PrincipalReplaced' },
      );
    }
  }

  private async inlineDocument(iam: IAMClient, l: Extract<StandingLocator, { mechanism: 'inline' }>): Promise<string | undefined> {
    const input = { PolicyName: l.policyName };
    try {
      const out = await this.run<{ PolicyDocument?: string }>(`Get${noun(l.principalKind)}Policy`, (abortSignal) =>
        l.principalKind === 'role' ? iam.send(new GetRolePolicyCommand({ ...input, RoleName: l.principalName }), { abortSignal })
          : l.principalKind === 'user' ? iam.send(new GetUserPolicyCommand({ ...input, UserName: l.principalName }), { abortSignal })
            : iam.send(new GetGroupPolicyCommand({ ...input, GroupName: l.principalName }), { abortSignal }),
      );
      return out.PolicyDocument === undefined ? undefined : decodePolicy(out.PolicyDocument);
    } catch (e) {
      if (isNoSuchEntity(e)) return undefined;
      throw e;
    }
  }
}

function noun(kind: 'role' | 'user' | 'group'): 'Role' | 'User' | 'Group' {
  return kind === 'role' ? 'Role' : kind === 'user' ? 'User' : 'Group';
}
