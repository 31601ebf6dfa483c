import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { StandingAssignment, TargetKinds } from '@jit/domain';
import { parseAccessPolicy } from '@jit/policy';

/**
 * A path to just-in-time for one finding (docs/discovery.md, "Proposed rules"): a rules-file
 * entry that makes the same access requestable for a while with an approval, narrowed to what
 * the cloud says was used where it says so. `file` is a complete rules file around the entry (the
 * groups it names declared, empty), which the broker's rules checker (`npm run rules`,
 * `parseAccessPolicy`) accepts; `rule` is the entry alone, to paste under `rules:`.
 */
export interface ProposedRule {
  /** The entry as the rules file holds it. */
  rule: Record<string, unknown>;
  /** A whole rules file (YAML) holding the entry and the groups it names. */
  file: string;
  /** True when the entry asks for less than the standing assignment gives (the used subset). */
  narrowed: boolean;
  /** What the reader should check before pasting. */
  notes: string[];
}

/** How long the proposed access may be asked for at a time, and who approves it. */
export interface ProposalOptions {
  maxDuration: string;
  approverGroup: string;
}

export const DEFAULT_PROPOSAL_OPTIONS: ProposalOptions = { maxDuration: 'PT4H', approverGroup: 'discovery-approvers' };

/** AWS policy targets take at most this many actions (aws.iam-policy's schema). */
const MAX_AWS_ACTIONS = 100;

type Finding = Pick<StandingAssignment, 'cloud' | 'key' | 'principal' | 'scope' | 'access' | 'usage'>;

/** A rule name from the finding: readable, within the 80 characters the rules file allows, unique by a digest of the key. */
function ruleName(f: Finding): string {
  const slug = `${f.principal.displayName ?? f.principal.id.split(/[:/]/).pop() ?? 'principal'}-${f.access.name}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  const digest = createHash('sha256').update(f.key).digest('hex').slice(0, 8);
  return `jit-${f.cloud}-${slug || 'access'}-${digest}`;
}

/** An IAM user or role ARN without its path (rules address them by name); anything else (a group) is not a rule principal. */
function awsRulePrincipal(arn: string): string | undefined {
  const m = /^(arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:role|user)\/)(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(arn);
  return m ? m[1] + m[2] : undefined;
}

/** `s3` (a service namespace, as AWS's service last accessed reports it) as `s3:*`; an action as it is. */
function awsUsedAction(used: string): string {
  return used.includes(':') ? used : `${used}:*`;
}

/** GCP basic roles cannot carry an expiry condition (cloud-apis.md C1), so are never granted as they are. */
const GCP_BASIC = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);

/** `storage.objects.get` -> `storage`: the service of a GCP permission. */
function gcpService(permission: string): string {
  return permission.split('.')[0];
}

function target(f: Finding): { target: Record<string, unknown>; narrowed: boolean; notes: string[] } {
  const notes: string[] = [];
  const used = f.usage?.used ?? [];
  switch (f.cloud) {
    case 'aws': {
      const principal = awsRulePrincipal(f.principal.id);
      if (!principal) notes.push(`${f.principal.id} is not an IAM user or role: the entry allows any principal; restrict it before use`);
      const granted = f.access.actions?.length ? f.access.actions : ['*'];
      const narrow = f.usage && used.length > 0 && used.length <= MAX_AWS_ACTIONS;
      let actions = narrow ? [...new Set(used.map(awsUsedAction))].sort() : granted.slice(0, MAX_AWS_ACTIONS);
      if (!narrow && f.usage && used.length === 0) notes.push(`nothing was used in the last ${f.usage.periodDays} days: consider removing the assignment rather than making it requestable`);
      if (!narrow && granted.length > MAX_AWS_ACTIONS) notes.push(`the policy lists ${granted.length} actions; the entry keeps the first ${MAX_AWS_ACTIONS}`);
      if (actions.length === 0) actions = ['*'];
      if (narrow) notes.push(`narrowed to the services used in the last ${f.usage!.periodDays} days (${actions.length} of ${f.usage!.granted.length} granted)`);
      return {
        target: { kind: 'aws.iam-policy', actions, resources: ['*'], ...(principal && { principals: [principal] }) },
        narrowed: !!narrow,
        notes,
      };
    }
    case 'azure': {
      const directory = f.access.type === 'azure.directory-role';
      const roleId = f.access.id ?? '*';
      if (!f.access.id) notes.push('the role definition id is not known: the entry allows any role at this scope; name it before use');
      const principals = { principals: [f.principal.id] };
      return directory
        ? { target: { kind: 'azure.directory-role', roleDefinitionIds: [roleId], directoryScopes: [f.scope || '/'], ...principals }, narrowed: false, notes }
        : { target: { kind: 'azure.resource-role', roleDefinitionIds: [roleId], scopes: [f.scope], ...principals }, narrowed: false, notes };
    }
    case 'gcp': {
      const resource = f.scope;
      let roles = [f.access.name];
      let narrowed = false;
      if (GCP_BASIC.has(f.access.name)) {
        const services = [...new Set(used.map(gcpService))].filter((s) => /^[a-z][a-z0-9]*$/.test(s)).sort();
        if (services.length) {
          roles = services.map((s) => `roles/${s}.*`);
          narrowed = true;
          notes.push(`${f.access.name} cannot be granted with an expiry; narrowed to the predefined roles of the services used (${services.join(', ')})`);
        } else {
          roles = ['roles/*'];
          notes.push(`${f.access.name} cannot be granted with an expiry: the entry allows predefined roles on ${resource}; list the ones needed`);
        }
      }
      return { target: { kind: 'gcp.iam-binding', roles, resources: [resource], principals: [f.principal.id] }, narrowed, notes };
    }
  }
}

/** The proposed rules-file entry for a finding. */
export function proposeRule(f: Finding, options: ProposalOptions = DEFAULT_PROPOSAL_OPTIONS): ProposedRule {
  const t = target(f);
  const requesters = `${ruleName(f).slice(0, 70)}-req`;
  const rule = {
    name: ruleName(f),
    description: `Just-in-time instead of standing ${f.access.name} on ${f.scope} for ${f.principal.id}`.slice(0, 500),
    requesters: [{ groups: [requesters] }],
    targets: [t.target],
    maxDuration: options.maxDuration,
    justification: { required: true },
    approval: { approvals: 1, from: [options.approverGroup] },
  };
  const notes = [...t.notes, `declare who may ask (group ${requesters}) and who approves (group ${options.approverGroup}) under groups`];
  const file = stringify({ version: 1, groups: { [requesters]: [], [options.approverGroup]: [] }, rules: [rule] }, { lineWidth: 0 });
  return { rule, file, narrowed: t.narrowed, notes };
}

/** Checks a proposal with the broker's rules checker, as `npm run rules` would load it; returns the issues (none when accepted). */
export function checkProposal(proposal: ProposedRule, kinds: TargetKinds, now = new Date()): string[] {
  try {
    parseAccessPolicy(proposal.file, 'proposed rule', now, kinds);
    return [];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}
