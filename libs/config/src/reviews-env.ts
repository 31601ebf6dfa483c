import { z } from 'zod';
import { documented } from './env-docs';
import { optionalVar } from './provider-env';

/** Access reviews (docs/reviews.md). */
export interface ReviewsConfig {
  /** Campaign definitions (YAML); undefined: only those made through the API. */
  file: string | undefined;
}

const group = 'reviews' as const;

export const REVIEWS_ENV_SHAPE = {
  JIT_REVIEWS_FILE: documented(optionalVar, {
    group,
    description:
      'YAML campaign definitions for access reviews ([reviews.md](reviews.md)): scope (standing assignments, rule eligibility), reviewers, cron `schedule` (UTC), `duration`, `defaultDecision`, `remindBefore`, `escalation`; read at start, every error named by line and field',
    default: '(none: campaigns defined through the API only)',
  }),
};

type ReviewsEnv = { [K in keyof typeof REVIEWS_ENV_SHAPE]: z.output<(typeof REVIEWS_ENV_SHAPE)[K]> };

export function toReviewsConfig(e: ReviewsEnv): ReviewsConfig {
  return { file: e.JIT_REVIEWS_FILE || undefined };
}
