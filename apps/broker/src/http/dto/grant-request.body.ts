import { TargetKinds, grantRequestSchema } from '@jit/domain';
import { jsonSchemaOf } from './openapi-components';

/** The body of `POST /v1/grants` as the API documents it: the domain's schema for the kinds served, with the API's wording. */
export function grantRequestBody(kinds: TargetKinds) {
  const schema = grantRequestSchema(kinds);
  return schema.extend({
    duration: schema.shape.duration.describe('ISO-8601 duration, e.g. PT20M'),
  });
}

/** The OpenAPI schema of that body (start-broker puts it in the API document). */
export function grantRequestBodySchema(kinds: TargetKinds): Record<string, unknown> {
  return jsonSchemaOf(grantRequestBody(kinds), 'input');
}
