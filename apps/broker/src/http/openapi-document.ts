import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { TargetKinds } from '@jit/domain';
import { BrokerModule, BrokerParts } from '../broker.module';
import { grantRequestBodySchema } from './dto/grant-request.body';
import { responseComponents } from './dto/openapi-components';

/**
 * The broker's OpenAPI document, from the controllers' decorators and the zod schemas that
 * validate requests and shape responses (dto/). `servers` is the public URL when one is
 * configured (JIT_PUBLIC_URL), else `/`: the document is served by the broker it describes.
 */
export function buildOpenApiDocument(app: INestApplication, kinds: TargetKinds, publicUrl?: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('JIT access broker')
      .setDescription('One grant API for Azure, AWS and GCP: time-bound access, swept at expiry, every change in a hash-chained audit log.')
      .setVersion('1')
      .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
      .addServer(publicUrl ?? '/', publicUrl ? 'this broker' : 'the broker serving this document')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a static token (JIT_TOKENS_FILE, JIT_ADMIN_TOKEN) or an OIDC ID token from a trusted issuer' })
      .addTag('grants', 'request, read, approve, deny and revoke grants')
      .addTag('audit', 'the hash-chained audit log, its verification and signed checkpoints')
      .addTag('access rules', 'the rules in force, dry runs and reloads')
      .addTag('discovery', 'standing access in the clouds: scans, findings with a proposed just-in-time rule, the summary, and approved, restorable removals')
      .addTag('reviews', 'access reviews: campaigns over standing assignments and rule eligibility, decisions, the report and the rules patch')
      .addTag('system', 'health, metrics and this document')
      .build(),
    { operationIdFactory: operationId },
  );
  // The schemas are JSON Schema 2020-12 (from zod), which is what OpenAPI 3.1 uses; Nest's own parts are valid 3.1 too.
  document.openapi = '3.1.0';
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...responseComponents() } };
  documentGrantRequestBody(document, kinds);
  return document;
}

/**
 * Operation ids are the generated client's method names and part of the contract: stable, and
 * named here so that a renamed handler does not rename them. A new handler needs an entry.
 */
const OPERATION_IDS: Record<string, string> = {
  'GrantsController.create': 'requestGrant',
  'GrantsController.list': 'listGrants',
  'GrantsController.get': 'getGrant',
  'GrantsController.revoke': 'revokeGrant',
  'GrantsController.approve': 'approveGrant',
  'GrantsController.deny': 'denyGrant',
  'AuditController.list': 'listAuditEvents',
  'AuditController.verify': 'verifyAuditChain',
  'AuditController.checkpoints': 'listAuditCheckpoints',
  'StatsController.get': 'getGrantStats',
  'PolicyController.get': 'getAccessRules',
  'PolicyController.evaluate': 'evaluateGrantRequest',
  'PolicyController.reload': 'reloadAccessRules',
  'DiscoveryController.startScan': 'startDiscoveryScan',
  'DiscoveryController.scan': 'getDiscoveryScan',
  'DiscoveryController.findings': 'listDiscoveryFindings',
  'DiscoveryController.finding': 'getDiscoveryFinding',
  'DiscoveryController.summary': 'getDiscoverySummary',
  'DiscoveryController.requestRemoval': 'requestStandingRemoval',
  'DiscoveryController.removal': 'getStandingRemoval',
  'DiscoveryController.approve': 'approveStandingRemoval',
  'DiscoveryController.deny': 'denyStandingRemoval',
  'DiscoveryController.restore': 'restoreStandingRemoval',
  'ReviewsController.definitions': 'listReviewDefinitions',
  'ReviewsController.define': 'defineReviewCampaign',
  'ReviewsController.start': 'startReviewCampaign',
  'ReviewsController.list': 'listReviewCampaigns',
  'ReviewsController.get': 'getReviewCampaign',
  'ReviewsController.items': 'listReviewItems',
  'ReviewsController.decideMany': 'decideReviewItems',
  'ReviewsController.report': 'getReviewReport',
  'ReviewsController.rulesPatch': 'getReviewRulesPatch',
  'ReviewsController.item': 'getReviewItem',
  'ReviewsController.decide': 'decideReviewItem',
  'HealthController.health': 'getHealth',
  'HealthController.scrape': 'getMetrics',
  'SystemController.docs': 'getOpenApiDocument',
};

function operationId(controller: string, method: string): string {
  const id = OPERATION_IDS[`${controller}.${method}`];
  if (!id) throw new Error(`${controller}.${method} has no operationId: name it in OPERATION_IDS (openapi-document.ts)`);
  return id;
}

/** The body of `POST /v1/grants` (and of the dry run), with the target kinds this broker serves. */
function documentGrantRequestBody(document: OpenAPIObject, kinds: TargetKinds): void {
  for (const path of ['/v1/grants', '/v1/policy/evaluate']) {
    const body = document.paths[path]?.post?.requestBody;
    if (!body || !('content' in body)) throw new Error(`the API document has no request body for POST ${path}`);
    body.content['application/json'] = { ...body.content['application/json'], schema: grantRequestBodySchema(kinds) };
  }
}

/**
 * The document as `npm run openapi` writes it: the routes and decorators of a broker app that
 * is never started (Nest's preview mode instantiates nothing), so no database, port or cloud.
 */
export async function offlineOpenApiDocument(kinds: TargetKinds, publicUrl?: string): Promise<OpenAPIObject> {
  // No part is used: preview mode registers the routes without constructing a controller.
  const parts = new Proxy({}, { get: () => ({}) }) as BrokerParts;
  const app = await NestFactory.create(BrokerModule.forParts(parts), { preview: true, logger: false, abortOnError: false });
  try {
    return buildOpenApiDocument(app, kinds, publicUrl);
  } finally {
    await app.close();
  }
}
