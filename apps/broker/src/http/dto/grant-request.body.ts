import { z } from 'zod';
import { grantRequestSchema } from '@jit/domain';

/** The body of `POST /v1/grants` as the API documents it: the domain's schema with the API's wording. */
export const grantRequestBody = grantRequestSchema.extend({
  duration: grantRequestSchema.shape.duration.describe('ISO-8601 duration, e.g. PT20M'),
});

/** The OpenAPI schema of that body. */
export const grantRequestBodySchema = z.toJSONSchema(grantRequestBody, { target: 'openapi-3.0', io: 'input' }) as object;
