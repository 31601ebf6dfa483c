import { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { TargetKinds, grantRequestSchema } from '@jit/domain';

/** The body of `POST /v1/grants` as the API documents it: the domain's schema for the kinds served, with the API's wording. */
export function grantRequestBody(kinds: TargetKinds) {
  const schema = grantRequestSchema(kinds);
  return schema.extend({
    duration: schema.shape.duration.describe('ISO-8601 duration, e.g. PT20M'),
  });
}

/** The OpenAPI schema of that body (start-broker puts it in the API document). */
export function grantRequestBodySchema(kinds: TargetKinds): SchemaObject {
  return z.toJSONSchema(grantRequestBody(kinds), { target: 'openapi-3.0', io: 'input' }) as SchemaObject;
}
