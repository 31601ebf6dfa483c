import { IncomingMessage, ServerResponse } from 'node:http';
import { RequestLog } from '@jit/sim-kit';
import { AwsSimError } from './aws-sim.error';
import { FaultInjector } from './fault.injector';
import { INLINE_POLICY_MAX_CHARS, IdentityCenterStore } from './identity-center.store';
import { identityStoreHandlers } from './identitystore.handler';
import { JsonServiceModel } from './json-model.types';
import { JSON_MODELS } from './json-models.generated';
import { AMZ_JSON_1_1, JsonSimError, ValidationStyle, coralValidation, newRequestId, validateShape } from './json-protocol.codec';
import { OrganizationStore } from './organization.store';
import { organizationsHandlers, organizationsValidation } from './organizations.handler';
import { Caller, callerAccount, callerArn } from './request.caller';
import { JsonHandler, ssoAdminHandlers } from './sso-admin.handler';

export type JsonServiceName = 'sso-admin' | 'identitystore' | 'organizations';

/** One awsJson1_1 call as it arrived and was answered, for tests to check against the botocore models. */
export interface RecordedJsonRequest {
  service: JsonServiceName;
  /** The `X-Amz-Target` header, e.g. `SWBExternalService.CreateAccountAssignment`. */
  target: string;
  operation: string;
  method: string;
  path: string;
  contentType: string;
  /** The signing name of the SigV4 credential scope (`sso`, `identitystore`, `organizations`). */
  signingName?: string;
  /** The parsed request body. */
  input: unknown;
  /** The response body of a successful call, as sent. */
  output?: Record<string, unknown>;
  status: number;
  errorCode?: string;
  errorMessage?: string;
  account?: string;
  callerArn?: string;
}

interface JsonService {
  name: JsonServiceName;
  model: JsonServiceModel;
  handlers: Record<string, JsonHandler>;
  validation: ValidationStyle;
  throttle: () => JsonSimError;
  serverError: () => JsonSimError;
}

/**
 * The sso-admin model with the one constraint the service has since relaxed: a permission set's
 * inline policy may have 32,768 characters (API reference), the kept model still says 10,240.
 */
function ssoAdminModel(): JsonServiceModel {
  const model = JSON_MODELS['sso-admin'];
  const shapes = { ...model.shapes, PermissionSetPolicyDocument: { ...model.shapes.PermissionSetPolicyDocument, max: INLINE_POLICY_MAX_CHARS } };
  return { ...model, shapes };
}

/**
 * The awsJson1_1 side of the AWS simulator: IAM Identity Center admin (`SWBExternalService.*`),
 * Identity Store (`AWSIdentityStore.*`) and Organizations (`AWSOrganizationsV20161128.*`) on the
 * same endpoint as IAM/STS, picked by the `X-Amz-Target` header. Each request is checked as the
 * services check it: POST / with `application/x-amz-json-1.1`, a SigV4 credential scoped to the
 * service's signing name, a known operation, then the shared fault injector (throttling, server
 * errors, latency), then the body against the model's input shape, then the operation itself.
 */
export class AwsJsonEndpoint {
  private readonly services: Record<string, JsonService>;
  readonly log = new RequestLog<RecordedJsonRequest>();

  constructor(
    private readonly faults: FaultInjector,
    private readonly resolveCaller: (accessKeyId: string, securityToken: string | string[] | undefined) => Caller,
    idc: IdentityCenterStore,
    org: OrganizationStore,
  ) {
    const coral = (name: 'sso-admin' | 'identitystore', handlers: Record<string, JsonHandler>): JsonService => ({
      name,
      model: name === 'sso-admin' ? ssoAdminModel() : JSON_MODELS[name],
      handlers,
      validation: coralValidation,
      throttle: () => new JsonSimError('ThrottlingException', 'Rate exceeded', name === 'identitystore' ? { RetryAfterSeconds: 1 } : {}),
      serverError: () => new JsonSimError('InternalServerException', 'An internal error occurred.', {}, 500),
    });
    const list: JsonService[] = [
      coral('sso-admin', ssoAdminHandlers(idc)),
      coral('identitystore', identityStoreHandlers(idc)),
      {
        name: 'organizations',
        model: JSON_MODELS.organizations,
        handlers: organizationsHandlers(org),
        validation: organizationsValidation,
        throttle: () => new JsonSimError('TooManyRequestsException', 'You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.'),
        serverError: () => new JsonSimError('ServiceException', 'AWS Organizations can\'t complete your request because of an internal service error. Try again later.', {}, 500),
      },
    ];
    this.services = Object.fromEntries(list.map((s) => [s.model.targetPrefix, s]));
  }

  /** True when the request is an awsJson call (it names its operation in `X-Amz-Target`). */
  static accepts(req: IncomingMessage): boolean {
    return typeof req.headers['x-amz-target'] === 'string';
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const requestId = newRequestId();
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.lastIndexOf('.');
    const service = this.services[target.slice(0, dot)];
    const operation = target.slice(dot + 1);
    const credential = /Credential=([^/,\s]+)\/[^/]+\/[^/]+\/([a-z0-9-]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const record: RecordedJsonRequest = {
      service: service?.name ?? ('unknown' as JsonServiceName),
      target,
      operation,
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: String(req.headers['content-type'] ?? ''),
      signingName: credential?.[2],
      input: undefined,
      status: 200,
    };
    this.log.record(record);
    if (service) await this.faults.delay(this.faults.latencyFor(operation));

    let status = 200;
    let payload: Record<string, unknown>;
    const headers: Record<string, string> = { 'content-type': AMZ_JSON_1_1, 'x-amzn-RequestId': requestId };
    try {
      payload = this.dispatch(service, operation, req, body, credential, record);
    } catch (e) {
      const error =
        e instanceof JsonSimError ? e
        : e instanceof AwsSimError && e.code === 'InvalidClientTokenId' ? new JsonSimError('UnrecognizedClientException', e.message, {}, 403)
        : e instanceof AwsSimError && e.code === 'ExpiredToken' ? new JsonSimError('ExpiredTokenException', e.message, {}, 400)
        : (service?.serverError() ?? new JsonSimError('InternalFailure', 'An internal error occurred.', {}, 500));
      status = error.status;
      record.errorCode = error.code;
      // An exception that is no AWS error is a simulator bug: the client sees a server error, the log says what broke.
      record.errorMessage = error === e || e instanceof AwsSimError ? error.message : `simulator error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
      const members: Record<string, unknown> = { ...error.members };
      // Identity Store's errors carry the request id in the body too.
      const shape = service?.model.shapes[error.code];
      if (shape?.members?.RequestId && members.RequestId === undefined) members.RequestId = requestId;
      payload = { __type: error.code, Message: error.message, ...members };
      headers['x-amzn-ErrorType'] = error.code;
    }
    record.status = status;
    const text = JSON.stringify(payload);
    // What went on the wire (members left undefined are not sent).
    if (status === 200) record.output = JSON.parse(text) as Record<string, unknown>;
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private dispatch(
    service: JsonService | undefined,
    operation: string,
    req: IncomingMessage,
    body: string,
    credential: RegExpExecArray | null,
    record: RecordedJsonRequest,
  ): Record<string, unknown> {
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      throw new JsonSimError('UnknownOperationException', 'awsJson1_1 requests are POST /.', {}, 404);
    }
    if (!service || !service.handlers[operation] || !service.model.operations[operation]) {
      throw new JsonSimError('UnknownOperationException', `Unknown operation ${record.target}.`);
    }
    if (!record.contentType.startsWith(AMZ_JSON_1_1)) {
      throw new JsonSimError('SerializationException', `Content-Type must be ${AMZ_JSON_1_1}.`);
    }
    if (!credential) throw new JsonSimError('MissingAuthenticationTokenException', 'Missing Authentication Token', {}, 403);
    if (credential[2] !== service.model.signingName) {
      throw new JsonSimError('InvalidSignatureException', `Credential should be scoped to correct service: '${service.model.signingName}'.`, {}, 403);
    }
    const caller = this.resolveCaller(credential[1], req.headers['x-amz-security-token']);
    record.account = callerAccount(caller);
    record.callerArn = callerArn(caller);

    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw new JsonSimError('SerializationException', 'The request body is not valid JSON.');
    }
    record.input = input;

    const fault = this.faults.take();
    if (fault === 'throttle') throw service.throttle();
    if (fault === 'server-error') throw service.serverError();

    const op = service.model.operations[operation];
    const violations = op.input ? validateShape(service.model, op.input, input) : [];
    if (violations.length) throw service.validation.reject(violations);
    return service.handlers[operation](input, { operation, accountId: record.account, callerArn: record.callerArn });
  }
}
