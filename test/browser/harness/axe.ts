import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/**
 * Runs axe (WCAG 2.1 A and AA rules) on the page as it is and fails with each violation's rule,
 * impact and the elements at fault.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const violations = results.violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  if (violations.length) throw new Error(`${what}: ${violations.length} accessibility violation(s)\n  ${violations.join('\n  ')}`);
}
