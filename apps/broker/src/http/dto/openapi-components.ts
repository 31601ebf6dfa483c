import { applyDecorators } from '@nestjs/common';
import { ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { problemSchema } from '../problem';
import { auditEventResponse, auditPageResponse } from './audit-event.response';
import { auditVerifyResponse, checkpointPageResponse } from './audit-verify.response';
import { grantPageResponse, grantResponse } from './grant.response';
import { policyEvaluationResponse, policyReloadResponse, policyResponse } from './policy.response';
import { grantStatsResponse } from './stats.response';
import {
  discoveryFindingDetailResponse,
  discoveryFindingPageResponse,
  discoveryFindingResponse,
  discoveryScanResponse,
  discoverySummaryResponse,
  standingRemovalResponse,
} from './discovery.response';
import { healthResponse } from './system.response';
import { reviewBulkResponse, reviewCampaignPageResponse, reviewCampaignResponse, reviewDefinitionListResponse, reviewItemPageResponse, reviewItemResponse } from './review.response';

/** Every response body the API sends, by its name in `components.schemas`. */
const RESPONSES = {
  Grant: grantResponse,
  GrantPage: grantPageResponse,
  AuditEvent: auditEventResponse,
  AuditPage: auditPageResponse,
  AuditVerification: auditVerifyResponse,
  AuditCheckpointPage: checkpointPageResponse,
  AccessRules: policyResponse,
  AccessRulesReload: policyReloadResponse,
  PolicyEvaluation: policyEvaluationResponse,
  GrantStats: grantStatsResponse,
  DiscoveryScan: discoveryScanResponse,
  DiscoveryFinding: discoveryFindingResponse,
  DiscoveryFindingPage: discoveryFindingPageResponse,
  DiscoveryFindingDetail: discoveryFindingDetailResponse,
  DiscoverySummary: discoverySummaryResponse,
  StandingRemoval: standingRemovalResponse,
  Health: healthResponse,
  ReviewCampaign: reviewCampaignResponse,
  ReviewCampaignPage: reviewCampaignPageResponse,
  ReviewItem: reviewItemResponse,
  ReviewItemPage: reviewItemPageResponse,
  ReviewBulkDecision: reviewBulkResponse,
  ReviewDefinitionList: reviewDefinitionListResponse,
  Problem: problemSchema,
} as const;

export type ResponseName = keyof typeof RESPONSES;

/**
 * A zod schema as the document's JSON Schema (OpenAPI 3.1 is JSON Schema 2020-12, so `null` is a
 * type like any other); `io` says which side of a transform: what a client sends, or what it gets.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

/**
 * The response schemas for `components.schemas`, from the zod schemas the serialisers are typed
 * (and tested) against. Schemas they share that carry an id (`.meta({ id })`), such as Principal
 * or ApprovalStep, become components of their own.
 */
export function responseComponents(): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSES)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'output', uri: (id) => `#/components/schemas/${id}` });
  const { __shared: shared, ...named } = schemas as Record<string, { $defs?: Record<string, object> }>;
  const all = { ...named, ...shared?.$defs };
  const text = JSON.stringify(all, (key, value: unknown) => (key === '$schema' || ((key === 'id' || key === '$id') && typeof value === 'string') ? undefined : value));
  // zod names a shared schema `<uri of __shared>#/$defs/<id>`; as a component of its own it is `#/components/schemas/<id>`.
  return JSON.parse(text.replace(/#\/components\/schemas\/__shared#\/\$defs\//g, '#/components/schemas/')) as Record<string, object>;
}

const ref = (name: ResponseName) => ({ $ref: `#/components/schemas/${name}` });

/** A JSON response of one of the named schemas. */
export const ApiJson = (status: number, name: ResponseName, description: string, headers?: Record<string, { description: string; schema: object }>) =>
  ApiResponse({ status, description, ...(headers && { headers }), content: { 'application/json': { schema: ref(name) } } });

/** The headers of a grant request's answer (grants.controller.ts). */
export const GRANT_CREATED_HEADERS = {
  Location: { description: '/v1/grants/{id} of the grant', schema: { type: 'string' } },
  'Cache-Control': { description: 'no-store when the body carries credentials', schema: { type: 'string' } },
};

/** What each error status means wherever it is listed; the filter (domain-exception.filter.ts) and the body middleware send them. */
const PROBLEMS = {
  400: 'invalid input: the body, a query parameter, a path parameter or a header the broker reads (Authorization, Idempotency-Key), each named in errors[].field',
  401: 'no token, a malformed Authorization header, or a token that is unknown, revoked or fails OIDC verification',
  403: 'the token lacks the role this needs, or the access rules refuse it',
  404: 'no such grant, or one the caller may not read',
  409: 'not possible in the grant\'s current state, or an Idempotency-Key reused with another body',
  413: 'the body is larger than JIT_BODY_LIMIT',
  415: 'the body is not application/json in UTF-8, or uses an unsupported Content-Encoding',
  422: 'the cloud\'s own limit would be exceeded (e.g. too many role assignments); errors[].field names the input',
  429: 'this token subject went over its write or dry-run rate limit; Retry-After says when to retry',
  502: 'the cloud refused the change',
  503: 'the database or the cloud does not answer, or an OIDC issuer\'s keys cannot be fetched; Retry-After says when to retry',
} as const;

export type ProblemStatus = keyof typeof PROBLEMS;

/** The error responses an operation can really give, each an `application/problem+json` Problem. */
export const ApiProblems = (...statuses: ProblemStatus[]) =>
  applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: PROBLEMS[status], headers: PROBLEM_HEADERS[status], content: { 'application/problem+json': { schema: ref('Problem') } } }),
    ),
  );

const RETRY_AFTER = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } };
/** The headers that come with some problems (domain-exception.filter.ts). */
const PROBLEM_HEADERS: Partial<Record<ProblemStatus, Record<string, { description: string; schema: object }>>> = {
  401: { 'WWW-Authenticate': { description: 'Bearer realm="jit-broker"', schema: { type: 'string' } } },
  429: RETRY_AFTER,
  503: RETRY_AFTER,
};

/** Problems every authenticated operation can give: a bad header (400), no or a bad token (401), the database or an issuer away (503). */
const AUTHENTICATED: ProblemStatus[] = [400, 401, 503];
/** And every write: a body of the wrong type or size, and the subject's rate limit. */
const WRITE: ProblemStatus[] = [...AUTHENTICATED, 413, 415, 429];

/** The problems of an authenticated read, and `more`. */
export const ApiReadProblems = (...more: ProblemStatus[]) => ApiProblems(...new Set([...AUTHENTICATED, ...more]));
/** The problems of an authenticated write, and `more`. */
export const ApiWriteProblems = (...more: ProblemStatus[]) => ApiProblems(...new Set([...WRITE, ...more]));

/** Query parameters documented from the zod schema that parses them (descriptions from `.describe()`, else `notes`). */
export function ApiQueryFrom(schema: z.ZodObject, notes: Record<string, string> = {}) {
  const json = jsonSchemaOf(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) => {
      const { description, ...fieldSchema } = property;
      return ApiQuery({
        name,
        required: json.required?.includes(name) ?? false,
        description: notes[name] ?? (description as string | undefined),
        schema: fieldSchema,
      });
    }),
  );
}
