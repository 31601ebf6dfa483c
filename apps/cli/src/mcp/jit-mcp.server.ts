import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { CLOUDS, GRANT_STATES, PRINCIPAL_TYPES } from '@jit/domain';
import { awaitGrant } from '../core/await-grant';
import { BrokerApi, BrokerError } from '../core/broker-api';
import type { GrantView } from '../core/grant';
import { stateLine, summarize } from './grant-summary';

export interface JitMcpOptions {
  /**
   * Put secret values (the STS keys of `aws.sts-credentials`) into tool results. Off by default:
   * a model's context is sent to its provider, logged, and can be steered by any text the agent
   * reads (prompt injection) into passing a secret on. Without it such requests are refused
   * before anything is issued, pointing the agent at `jit exec`, which hands credentials to one
   * command only; the broker vends them once, so issuing and then withholding them would leave a
   * live grant nobody can use.
   */
  allowSecrets?: boolean;
  /** How often wait_for_grant asks the broker again. */
  pollIntervalMs?: number;
}

/** wait_for_grant's bounds: an agent must not hang on a human who is not there. */
const WAIT_DEFAULT_SECONDS = 60;
const WAIT_MAX_SECONDS = 300;

const KIND_FIELDS = [
  'aws.iam-policy: actions (["s3:GetObject", ...]), resources (ARNs)',
  'aws.assume-role: roleArn',
  'aws.sts-credentials: roleArn (issues secret keys: see the server instructions)',
  'gcp.iam-binding: role (roles/...), resource (projects/<id>, folders/<n>, organizations/<n>)',
  'azure.resource-role: roleDefinitionId, scope (ARM scope)',
  'azure.directory-role: roleDefinitionId, directoryScopeId (default "/")',
  'azure.group-membership: groupId, access (member | owner)',
  'azure.app-role: resourceServicePrincipalId, appRoleId',
].join('; ');

const INSTRUCTIONS = `Just-in-time cloud access through the jit broker. Access is never standing: request exactly what the task needs, for the shortest duration that fits, with an honest justification; check the grant; revoke it when done.
The broker's access rules decide each request. Some requests need a human's approval: then request_access answers "pending approval" with the grant id. Do not retry or work around it: tell the user which grant to approve, then use wait_for_grant or get_grant.
Every call is recorded in the broker's audit log under this agent's identity.
Secret values (AWS STS keys) are not returned to you; to run a command with such credentials, use \`jit exec\` in a tool that runs commands.`;

const grantId = z.uuid({ message: 'must be a grant id (a UUID, as request_access returned it)' }).describe('the grant id that request_access or list_my_grants returned');

/**
 * The MCP server of `jit mcp`: tools to request access, read and wait for a grant, list the
 * agent's grants and revoke, each one broker call made with the agent's own token.
 */
export function createJitMcpServer(broker: BrokerApi, options: JitMcpOptions = {}): McpServer {
  const server = new McpServer({ name: 'jit-broker', version: '0.1.0' }, { instructions: INSTRUCTIONS });
  const pollMs = options.pollIntervalMs ?? 2_000;
  const result = (grant: GrantView): CallToolResult => {
    const { text, structured } = summarize(grant, options.allowSecrets);
    return { content: [{ type: 'text', text }], structuredContent: { summary: stateLine(grant), grant: structured } };
  };

  server.registerTool(
    'request_access',
    {
      title: 'Request just-in-time cloud access',
      description:
        'Ask the broker for time-bound access to one cloud target. Answers the grant: active (usable now), pending approval (a human must approve; the answer says who), or an error naming the refused field or the rule that denied it. ' +
        `Target fields by kind: ${KIND_FIELDS}.`,
      inputSchema: {
        cloud: z.enum(CLOUDS).describe('the cloud of the target'),
        principal: z
          .strictObject({
            type: z.enum(PRINCIPAL_TYPES).describe('user, group or workload (this agent\'s own workload identity, usually)'),
            id: z.string().min(1).max(1024).describe('who receives the access: an IAM role ARN, a GCP member (serviceAccount:...), an Entra object id; for aws.sts-credentials a session label'),
          })
          .describe('who receives the access'),
        target: z
          .object({ kind: z.string().min(1).describe('the target kind, e.g. aws.iam-policy') })
          .catchall(z.unknown())
          .describe('what access: the kind and its fields (see the tool description)'),
        duration: z
          .string()
          .regex(/^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'must be an ISO-8601 duration such as PT15M or PT1H')
          .describe('how long, ISO-8601: PT15M, PT1H; the shortest that fits the task'),
        justification: z.string().trim().min(1).max(1024).describe('why the access is needed, in a sentence a human approver can judge (required)'),
        ticket: z.string().trim().min(1).max(128).optional().describe('a change or incident ticket, when the rules ask for one'),
        idempotencyKey: z
          .string()
          .min(1)
          .max(128)
          .optional()
          .describe('send the same key when repeating a request whose answer was lost: the broker then answers the same grant instead of creating a second'),
      },
    },
    async (args) => {
      if (args.target.kind === 'aws.sts-credentials' && !options.allowSecrets) {
        return error(
          'Refused by this MCP server before asking the broker: aws.sts-credentials issues secret keys, and this server does not put secrets into the conversation. ' +
            'Use `jit exec --kind aws.sts-credentials ... -- <command>` in a command-running tool (it gives the keys to that command only and revokes when it ends), ' +
            'or request aws.assume-role / aws.iam-policy for the identity you already run as.',
        );
      }
      const { idempotencyKey, ...body } = args;
      // A repeated call without a key is a new request; with the same key, the broker answers the same grant.
      return call(async () => result(await broker.requestGrant(body, idempotencyKey)));
    },
  );

  server.registerTool(
    'get_grant',
    {
      title: 'Show a grant',
      description: 'The current state of one grant: pending approval (with how many approvals it has and needs), active (until when), or ended (how).',
      inputSchema: { grantId },
      annotations: { readOnlyHint: true },
    },
    async ({ grantId: id }) => call(async () => result(await broker.getGrant(id))),
  );

  server.registerTool(
    'list_my_grants',
    {
      title: 'List my grants',
      description: 'The grants this agent requested, newest first, optionally only those in one state or cloud.',
      inputSchema: {
        state: z.enum(GRANT_STATES).optional().describe('only grants in this state, e.g. active or pending_approval'),
        cloud: z.enum(CLOUDS).optional(),
        limit: z.number().int().min(1).max(100).default(20).describe('at most this many (1-100, default 20)'),
      },
      annotations: { readOnlyHint: true },
    },
    async (filter) =>
      call(async () => {
        const page = await broker.listGrants(filter);
        const lines = page.items.map((g) => `- ${stateLine(g)}`);
        return {
          content: [{ type: 'text', text: lines.length ? lines.join('\n') : 'No grants match.' }],
          structuredContent: { grants: page.items.map((g) => summarize(g, options.allowSecrets).structured), more: page.nextCursor !== null },
        };
      }),
  );

  server.registerTool(
    'revoke_grant',
    {
      title: 'Revoke a grant',
      description: 'End a grant now: an active grant loses its access, a pending request is withdrawn. Do this as soon as the work that needed the access is done.',
      inputSchema: { grantId, reason: z.string().trim().min(1).max(1024).optional().describe('why it ends, for the audit log') },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    async ({ grantId: id, reason }) => call(async () => result(await broker.revoke(id, reason))),
  );

  server.registerTool(
    'wait_for_grant',
    {
      title: 'Wait for a grant to settle',
      description: `Wait, at most timeoutSeconds (default ${WAIT_DEFAULT_SECONDS}, at most ${WAIT_MAX_SECONDS}), while a grant is pending approval or provisioning; answers its state then. It does not wait forever: if no human has approved in time, tell the user and try again later.`,
      inputSchema: {
        grantId,
        timeoutSeconds: z.number().int().min(1).max(WAIT_MAX_SECONDS).default(WAIT_DEFAULT_SECONDS).describe(`seconds to wait at most (1-${WAIT_MAX_SECONDS})`),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ grantId: id, timeoutSeconds }, extra) =>
      call(async () => {
        const progressToken = extra._meta?.progressToken;
        let round = 0;
        const { outcome, grant } = await awaitGrant(broker, await broker.getGrant(id), {
          timeoutMs: timeoutSeconds * 1000,
          pollMs,
          signal: extra.signal,
          onProgress: (p) => {
            if (p.type !== 'waiting' || progressToken === undefined) return;
            round += 1;
            void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: round, message: stateLine(p.grant) } }).catch(() => undefined);
          },
        });
        const r = result(grant);
        if (outcome === 'timeout') r.content.unshift({ type: 'text', text: `Still ${grant.state} after waiting ${timeoutSeconds} s.` });
        return r;
      }),
  );

  return server;
}

function error(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** A broker's refusal becomes a tool error the model can read (the fields it named, the rule that denied); anything else too, never a crash. */
async function call(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof BrokerError && e.status > 0) {
      const fields = e.errors.map((i) => `- ${i.field}: ${i.message}`);
      const decision = e.problem.decision ? `\ndecision: ${JSON.stringify(e.problem.decision)}` : '';
      const hint = e.status === 401 ? '\nThe broker did not accept this agent\'s token: the user must configure JIT_TOKEN (or the OIDC token) for this MCP server.' : '';
      return error(`The broker answered ${e.status} ${e.code} (${e.title}): ${e.detail}${fields.length ? `\n${fields.join('\n')}` : ''}${decision}${hint}`);
    }
    return error(`Could not reach the broker: ${e instanceof Error ? e.message : String(e)}`);
  }
}
