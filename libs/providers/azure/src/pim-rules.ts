/**
 * PIM refuses an active assignment that lasts less than five minutes, and the removal of one
 * within five minutes of its being made, both with `ActiveDurationTooShort` (entra-docs
 * `pim-resource-roles-assign-roles.md`, `groups-assign-member-owner.md`).
 */
export const PIM_MINIMUM_MS = 5 * 60_000;

/** How long after an assignment is made PIM refuses to remove it (same rule, same code). */
export const PIM_REMOVAL_WINDOW_MS = 5 * 60_000;

/**
 * Added to "assignment start + five minutes" before a refused removal is retried: the start we
 * read is truncated to the second and PIM measures from when it recorded the request.
 */
export const PIM_REMOVAL_MARGIN_MS = 15_000;

/** The error code both Graph and ARM PIM answer for either five-minute rule. */
export const ACTIVE_DURATION_TOO_SHORT = 'ActiveDurationTooShort';
