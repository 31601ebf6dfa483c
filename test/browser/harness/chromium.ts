import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`, as .ci/run does); CHROMIUM_PATH names another. */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium executable, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Whether browser specs run: always with CI set (a missing Chromium then fails them, naming the
 * fix); without CI, only where Chromium is installed, so a laptop without it skips them.
 */
export const browserAvailable = (): boolean => Boolean(process.env.CI) || chromiumPath() !== undefined;

/** Headless Chromium through playwright-core (no browser download: the system's own). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    throw new Error('no Chromium found for the browser tests: apt-get install chromium (Debian), or set CHROMIUM_PATH');
  }
  // No user namespaces in CI containers running as root: Chromium's sandbox cannot start there.
  return chromium.launch({ executablePath, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}
