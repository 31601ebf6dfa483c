/**
 * Access reviews (issue 17, docs/reviews.md): campaigns on a schedule over standing assignments
 * (discovery's findings, through `DiscoveryFindingsReader`) and the eligibility the access rules
 * grant; items, reviewers' decisions, defaults when nobody decides, what the broker applies
 * (removals through `StandingRemovals`, rules-file patches), reminders, escalation and the
 * campaign report. Imports the domain, config, policy, audit and resilience; storage through
 * domain ports.
 */
export * from './review-definition';
export * from './review-campaigns';
export * from './review-audit';
export * from './rules-patch';
