import { AwsSimError } from './aws-sim.error';
import { iamDiscoveryHandlers, rfc3986 } from './iam-discovery.handler';
import { EntityKind, IamStore } from './iam.store';
import { IAM_RULES, member, required } from './member.constraints';
import { XmlValue } from './query-protocol.codec';
import { Caller, callerAccount } from './request.caller';

type Handler = (params: Record<string, string>, caller: Caller) => XmlValue | undefined;

const DEFAULT_MAX_ITEMS = 100;

/**
 * The IAM actions the AWS adapter calls (inline policies of roles, users and groups, `GetRole`, and
 * discovery's, iam-discovery.handler.ts), each in the caller's account.
 */
export function iamHandlers(store: IamStore): Record<string, Handler> {
  const handlers: Record<string, Handler> = iamDiscoveryHandlers(store);
  for (const [kind, noun] of [['role', 'Role'], ['user', 'User'], ['group', 'Group']] as const) {
    const nameOf = (p: Record<string, string>) => required(p, `${noun}Name`, IAM_RULES[`${noun}Name`]);
    const policyName = (p: Record<string, string>) => required(p, 'PolicyName', IAM_RULES.PolicyName);

    handlers[`Put${noun}Policy`] = (p, caller) => {
      const entity = nameOf(p);
      const name = policyName(p);
      store.putPolicy(kind, callerAccount(caller), entity, name, required(p, 'PolicyDocument', IAM_RULES.PolicyDocument));
      return undefined;
    };
    handlers[`Get${noun}Policy`] = (p, caller) => {
      const entity = nameOf(p);
      const name = policyName(p);
      const text = store.getPolicy(kind, callerAccount(caller), entity, name);
      // The service returns the document URL-encoded (RFC 3986), cloud-apis.md B1.
      return { [`${noun}Name`]: store.get(kind, callerAccount(caller), entity).name, PolicyName: name, PolicyDocument: rfc3986(text) };
    };
    handlers[`Delete${noun}Policy`] = (p, caller) => {
      const entity = nameOf(p);
      store.deletePolicy(kind, callerAccount(caller), entity, policyName(p));
      return undefined;
    };
    handlers[`List${noun}Policies`] = (p, caller) => list(store, kind, callerAccount(caller), nameOf(p), p);
  }
  handlers.GetRole = (p, caller) => {
    const role = store.get('role', callerAccount(caller), required(p, 'RoleName', IAM_RULES.RoleName));
    return {
      Role: {
        Path: role.path,
        RoleName: role.name,
        RoleId: role.id,
        Arn: role.arn,
        CreateDate: role.createDate.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        // URL-encoded like every policy document IAM returns (cloud-apis.md B3).
        AssumeRolePolicyDocument: rfc3986(role.trustPolicy!),
        MaxSessionDuration: role.maxSessionDuration,
        RoleLastUsed: role.lastUsed ? { LastUsedDate: role.lastUsed.date.toISOString().replace(/\.\d{3}Z$/, 'Z'), Region: role.lastUsed.region } : {},
      },
    };
  };
  return handlers;
}

function list(store: IamStore, kind: EntityKind, accountId: string, entity: string, p: Record<string, string>): XmlValue {
  const marker = member(p, 'Marker', IAM_RULES.Marker);
  const maxItems = Number(member(p, 'MaxItems', IAM_RULES.MaxItems) ?? DEFAULT_MAX_ITEMS);
  const names = store.listPolicies(kind, accountId, entity);
  let start = 0;
  if (marker !== undefined) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > names.length) {
      throw new AwsSimError('InvalidInput', 400, 'Invalid Marker.');
    }
  }
  const page = names.slice(start, start + maxItems);
  const next = start + page.length;
  const truncated = next < names.length;
  return {
    PolicyNames: page,
    IsTruncated: truncated,
    Marker: truncated ? Buffer.from(String(next)).toString('base64url') : undefined,
  };
}
