import { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer, RequestLog, readBody, startLoopbackServer } from '@jit/sim-kit';
import { AwsJsonEndpoint } from './aws-json.endpoint';
import { AwsSimError } from './aws-sim.error';
import { FaultInjector, FaultOptions } from './fault.injector';
import { iamHandlers } from './iam-actions.handler';
import { IdentityCenterSeeds, OrganizationSeeds } from './identity-center.seeds';
import { IdentityCenterStore } from './identity-center.store';
import { EntityOptions, IamStore } from './iam.store';
import { IamSeeds } from './iam.seeds';
import { evaluate } from './policy.evaluator';
import { OrganizationStore } from './organization.store';
import { PolicyDocument } from './policy.types';
import {
  IAM_NAMESPACE, IAM_VERSION, STS_NAMESPACE, STS_VERSION, XmlValue, newRequestId, parseQueryBody, renderError, renderSuccess,
} from './query-protocol.codec';
import { Caller, callerAccount, callerArn } from './request.caller';
import { stsHandlers } from './sts-actions.handler';
import { StsSession, StsSessionStore } from './sts-session.store';

/** One request as it arrived on the wire, kept so tests can check it against the botocore models. */
export interface RecordedRequest {
  service: 'iam' | 'sts';
  method: string;
  path: string;
  contentType: string;
  action: string;
  version: string;
  params: Record<string, string>;
  status: number;
  /** The awsQuery error code answered, if any. */
  errorCode?: string;
  /** The account the call acted in (the caller's), once its credentials were recognised. */
  account?: string;
  /** The caller's ARN as `GetCallerIdentity` would report it. */
  callerArn?: string;
}

/** Extra request context for `isAllowed`, e.g. to evaluate a role as one of its sessions would be. */
export interface EvaluationContext {
  tokenIssueTime?: Date;
  sourceIdentity?: string;
  /** Further condition keys, e.g. `{ 'aws:SourceIp': '10.0.0.1' }`. */
  keys?: Record<string, string>;
}

interface Service {
  namespace: string;
  version: string;
  handlers: Record<string, (params: Record<string, string>, caller: Caller) => XmlValue | undefined>;
  serverErrorCode: string;
}

/**
 * A local IAM + STS that speaks the AWS Query protocol over plain HTTP (cloud-apis.md B0–B4),
 * for the adapter's contract tests, the sandbox and the benchmarks. Point both SDK clients'
 * `endpoint` at `endpoint`; the SigV4 signature is not verified, its credential scope picks the service.
 */
export class AwsSimulator {
  readonly endpoint: string;
  private readonly iam = new IamStore();
  /** Groups, managed policies, attachments and last-use data for discovery's tests and the sandbox. */
  readonly iamSeeds = new IamSeeds(this.iam);
  private readonly sessions = new StsSessionStore();
  private readonly faults = new FaultInjector();
  private readonly log = new RequestLog<RecordedRequest>();
  private readonly services: Record<'iam' | 'sts', Service>;
  private readonly org = new OrganizationStore();
  private readonly idc = new IdentityCenterStore(this.iam, this.org);
  /** Identity Center, Identity Store and Organizations (awsJson1_1, by `X-Amz-Target`): aws-json.endpoint.ts. */
  private readonly json = new AwsJsonEndpoint(this.faults, (key, token) => this.caller(key, token), this.idc, this.org);
  /** Seeds and inspects the Identity Center instance and its identity store (identity-center.seeds.ts). */
  readonly identityCenter = new IdentityCenterSeeds(this.idc, this.json.log);
  /** Seeds the organization: accounts, OUs, delegated administrators. */
  readonly organization = new OrganizationSeeds(this.org);

  private constructor(private readonly server: LoopbackServer) {
    this.endpoint = `http://${server.host === '::1' ? '[::1]' : server.host}:${server.port}`;
    this.services = {
      iam: { namespace: IAM_NAMESPACE, version: IAM_VERSION, handlers: iamHandlers(this.iam), serverErrorCode: 'ServiceFailure' },
      sts: { namespace: STS_NAMESPACE, version: STS_VERSION, handlers: stsHandlers(this.iam, this.sessions, () => new Date()), serverErrorCode: 'InternalFailure' },
    };
  }

  /** Listens on 127.0.0.1 (never a public interface); port 0 picks a free one. */
  static async start(options: { port?: number; host?: string } = {}): Promise<AwsSimulator> {
    let sim: AwsSimulator | undefined;
    const server = await startLoopbackServer(
      { name: 'AWS', hosts: ['127.0.0.1', 'localhost', '::1'], port: options.port, host: options.host },
      () => (req, res) => sim!.handle(req, res),
    );
    sim = new AwsSimulator(server);
    return sim;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Seeds a role; returns its ARN. */
  createRole(name: string, options?: EntityOptions): string {
    return this.iam.create('role', name, options).arn;
  }

  /** Seeds a user; returns its ARN. */
  createUser(name: string, options?: Omit<EntityOptions, 'maxSessionDuration' | 'trustPolicy'>): string {
    return this.iam.create('user', name, options).arn;
  }

  inject(options: FaultOptions): void {
    this.faults.set(options);
  }

  requests(): readonly RecordedRequest[] {
    return this.log.entries;
  }

  clearRequests(): void {
    this.log.clear();
  }

  /** The inline policy texts stored on a role or user (test inspection; not an AWS API). */
  inlinePolicies(principalArn: string): Record<string, string> {
    const entity = this.iam.byArn(principalArn);
    return entity ? Object.fromEntries(entity.policies) : {};
  }

  /**
   * Would IAM allow `action` on `resource` for this principal at `at`? Evaluates the stored inline
   * policies (explicit Deny wins) with `aws:CurrentTime` = `at`. For an `assumed-role` ARN it also
   * requires an unexpired session, applies the session policy as an intersection, and sets
   * `aws:TokenIssueTime`, `aws:SourceIdentity` and `aws:userid` from the session.
   */
  isAllowed(principalArn: string, action: string, resource: string, at: Date, context: EvaluationContext = {}): boolean {
    const sessionArn = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/[^/]+\/[^/]+$/.test(principalArn);
    if (sessionArn) return this.sessions.byAssumedRoleArn(principalArn).some((s) => this.sessionAllows(s, action, resource, at, context));
    const entity = this.iam.byArn(principalArn);
    if (!entity) return false;
    const keys = this.contextKeys(at, context, { 'aws:PrincipalArn': entity.arn, 'aws:userid': entity.id });
    return evaluate(this.iam.parsedPolicies(entity), action, resource, keys) === 'allow';
  }

  private sessionAllows(s: StsSession, action: string, resource: string, at: Date, context: EvaluationContext): boolean {
    if (at.getTime() >= s.expiration.getTime()) return false;
    const role = this.iam.byArn(s.roleArn);
    if (!role) return false;
    const keys = this.contextKeys(at, { tokenIssueTime: s.issuedAt, sourceIdentity: s.sourceIdentity, ...context }, {
      'aws:PrincipalArn': s.roleArn,
      'aws:userid': s.userId,
    });
    const sets: PolicyDocument[][] = [this.iam.parsedPolicies(role)];
    if (s.sessionPolicy) sets.push([s.sessionPolicy]);
    return sets.every((policies) => evaluate(policies, action, resource, keys) === 'allow');
  }

  private contextKeys(at: Date, context: EvaluationContext, base: Record<string, string>): Record<string, string | undefined> {
    const entries: Record<string, string | undefined> = {
      ...base,
      'aws:CurrentTime': at.toISOString(),
      'aws:EpochTime': String(Math.floor(at.getTime() / 1000)),
      'aws:TokenIssueTime': context.tokenIssueTime?.toISOString(),
      'aws:SourceIdentity': context.sourceIdentity,
      ...context.keys,
    };
    return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (AwsJsonEndpoint.accepts(req)) return this.json.handle(req, res, body);
    const requestId = newRequestId();
    const credential = /Credential=([^/,\s]+)\/[^/]+\/[^/]+\/([a-z0-9-]+)\/aws4_request/.exec(req.headers.authorization ?? '');
    const query = parseQueryBody(body);
    const serviceName: 'iam' | 'sts' = credential?.[2] === 'sts' || (!credential && query.action in this.services.sts.handlers) ? 'sts' : 'iam';
    const service = this.services[serviceName];
    const record: RecordedRequest = {
      service: serviceName,
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: String(req.headers['content-type'] ?? ''),
      action: query.action,
      version: query.version,
      params: query.params,
      status: 200,
    };
    this.log.record(record);
    await this.faults.delay(this.faults.latencyFor(query.action));

    let status = 200;
    let xml: string;
    try {
      const result = this.dispatch(service, req, query, credential?.[1], req.headers['x-amz-security-token'], record);
      xml = renderSuccess(service.namespace, query.action, result, requestId);
    } catch (e) {
      const error = e instanceof AwsSimError ? e : new AwsSimError(service.serverErrorCode, 500, 'An internal error occurred.');
      status = error.status;
      record.errorCode = error.code;
      xml = renderError(service.namespace, error, requestId);
    }
    record.status = status;
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-RequestId': requestId, 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  private dispatch(
    service: Service,
    req: IncomingMessage,
    query: ReturnType<typeof parseQueryBody>,
    accessKeyId: string | undefined,
    securityToken: string | string[] | undefined,
    record: RecordedRequest,
  ): XmlValue | undefined {
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      throw new AwsSimError('InvalidAction', 400, 'awsQuery requests are POST /.');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      throw new AwsSimError('InvalidParameterValue', 400, 'Content-Type must be application/x-www-form-urlencoded.');
    }
    if (!accessKeyId) throw new AwsSimError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
    const handler = service.handlers[query.action];
    if (!handler || query.version !== service.version) {
      throw new AwsSimError('InvalidAction', 400, `Could not find operation ${query.action} for version ${query.version || 'NO_VERSION_SPECIFIED'}`);
    }
    const fault = this.faults.take();
    if (fault === 'throttle') throw new AwsSimError('Throttling', 400, 'Rate exceeded');
    if (fault === 'server-error') throw new AwsSimError(service.serverErrorCode, 500, 'An internal error occurred.');
    const caller = this.caller(accessKeyId, securityToken);
    record.account = callerAccount(caller);
    record.callerArn = callerArn(caller);
    return handler(query.params, caller);
  }

  private caller(accessKeyId: string, securityToken: string | string[] | undefined): Caller {
    if (!accessKeyId.startsWith('ASIA')) return { accessKeyId };
    const session = this.sessions.byAccessKey(accessKeyId);
    if (!session || session.sessionToken !== securityToken) {
      throw new AwsSimError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
    }
    if (Date.now() >= session.expiration.getTime()) throw new AwsSimError('ExpiredToken', 400, 'The security token included in the request is expired');
    return { accessKeyId, session };
  }
}
