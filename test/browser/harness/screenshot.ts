import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

const DIR = join(__dirname, '..', '..', '..', 'docs', 'console');

/** With CONSOLE_SCREENSHOTS=1 (`npm run docs:console`), the page as docs/console/<name>.png; otherwise nothing. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CONSOLE_SCREENSHOTS !== '1') return;
  mkdirSync(DIR, { recursive: true });
  await page.screenshot({ path: join(DIR, `${name}.png`), fullPage: true, animations: 'disabled' });
}
