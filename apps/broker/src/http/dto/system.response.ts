import { z } from 'zod';

/** GET /health: up or down, nothing more (role, clouds and database kind are in /metrics). */
export const healthResponse = z.object({ status: z.enum(['ok', 'unavailable']) }).meta({ id: 'Health' });
