import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './harness/axe';
import { launchChromium } from './harness/chromium';
import { startConsoleBroker, type ConsoleBroker } from './harness/console-broker';
import { describeInBrowser } from './harness/describe-in-browser';
import { screenshot } from './harness/screenshot';

interface Stats {
  perDay: { count: number }[];
  breakGlass: { total: number; latest: { grantId: string }[] };
  denials: { rule: string | null; reason: string; count: number }[];
  openNow: { state: string; count: number }[];
}

const pipelineGrant = (i: number, actions = ['s3:PutObject']) => ({
  cloud: 'aws',
  principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/ci-deployer` },
  target: { kind: 'aws.iam-policy', actions, resources: [`arn:aws:s3:::artifacts/build-${i}/*`] },
  duration: 'PT30M',
  justification: `build ${i}`,
});

/**
 * The Insights page (issue 15 point 5) in Chromium against the sandbox: its figures are GET
 * /v1/stats's, each chart has a table of the same numbers, break-glass uses link to their grants,
 * it fits a phone's width, no CSP violation, axe clean; a requester gets the API's 403 and no link.
 */
describeInBrowser('console insights', () => {
  let broker: ConsoleBroker;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];
  let breakGlassId: string;

  async function signedIn(token: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${broker.url}/console/`);
    await page.getByLabel('Paste an API token').fill(token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  const api = async (token: string, method: string, path: string, body?: object): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${broker.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body && { 'Content-Type': 'application/json' }) },
      ...(body && { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };

  beforeAll(async () => {
    broker = await startConsoleBroker();
    browser = await launchChromium();
    // Three automatic grants, one break-glass, one refused by the deny-list, one by a rule's conditions.
    for (let i = 0; i < 3; i++) expect((await api(broker.tokens.requester, 'POST', '/v1/grants', pipelineGrant(i))).status).toBe(201);
    const bg = await api(broker.tokens.emergency, 'POST', '/v1/grants', pipelineGrant(9));
    expect(bg.status).toBe(201);
    breakGlassId = (bg.json as { id: string }).id;
    expect((await api(broker.tokens.requester, 'POST', '/v1/grants', pipelineGrant(10, ['iam:*']))).status).toBe(403);
    expect((await api(broker.tokens.requester, 'POST', '/v1/grants', { ...pipelineGrant(11), duration: 'PT2H' })).status).toBe(403);
  }, 300_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await broker?.stop();
  });

  it('should show the figures of GET /v1/stats as charts, each with a table of the same numbers', async () => {
    const stats = (await api(broker.tokens.auditor, 'GET', '/v1/stats')).json as Stats;
    const requested = stats.perDay.reduce((n, d) => n + d.count, 0);
    expect(requested).toBe(4);
    const page = await signedIn(broker.tokens.auditor);
    await page.getByRole('link', { name: 'Insights' }).click();
    await page.getByRole('heading', { name: 'Insights', level: 1 }).waitFor();

    // The tiles and each chart's accessible name carry the broker's numbers.
    const tile = (name: string) => page.locator('.stat-tile', { hasText: name }).locator('dd');
    await expect(tile('Requested').innerText()).resolves.toBe('4');
    await expect(tile('Break-glass uses').innerText()).resolves.toBe('1');
    await expect(tile('Denials').innerText()).resolves.toBe('2');
    await page.getByRole('img', { name: /Grants requested per day: 4 grants requested/ }).waitFor();
    await page.getByRole('img', { name: /Open grants now: 4 grants not yet ended: 4 active/ }).waitFor();
    await page.getByRole('img', { name: /Denials by rule: 2 requests refused/ }).waitFor();

    // The denials as a table: one row per rule, the broker's counts.
    const denials = page.getByRole('figure', { name: 'Denials by rule' });
    await denials.getByRole('button', { name: 'Show table' }).click();
    const table = denials.getByRole('table');
    for (const d of stats.denials) {
      const row = table.getByRole('row', { name: new RegExp(`^${(d.rule ?? '(no rule matched)').replace(/[()]/g, '\\$&')}\\b`) });
      await expect(row.getByRole('cell').last().innerText()).resolves.toBe(String(d.count));
    }
    expect(await denials.getByRole('button', { name: 'Show chart' }).getAttribute('aria-pressed')).toBe('true');
    await expectAccessible(page, 'insights');
    await screenshot(page, 'insights');

    // The break-glass use links to its grant's history.
    await page.getByRole('figure', { name: 'Break-glass uses' }).getByRole('link').first().click();
    await page.waitForURL(`**/console/grants/${breakGlassId}`);
    expect(cspViolations).toEqual([]);
  });

  it('should count one cloud when asked, in the URL, and fit a phone without sideways scrolling', async () => {
    const page = await signedIn(broker.tokens.auditor, { width: 390, height: 844 });
    await page.goto(`${broker.url}/console/insights`);
    await page.getByLabel('Cloud', { exact: true }).selectOption('gcp');
    await page.waitForURL(/cloud=gcp/);
    await page.getByText('No grant was requested in this range.').waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(page, 'insights on a phone');
  });

  it('should count UTC days from .. to when asked, both included', async () => {
    const page = await signedIn(broker.tokens.auditor);
    await page.goto(`${broker.url}/console/insights`);
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Range', { exact: true }).selectOption('custom');
    await page.getByLabel('From (UTC day)').fill(yesterday);
    await page.getByLabel('To (UTC day, included)').fill(yesterday);
    await page.waitForURL(new RegExp(`from=${yesterday}&to=${yesterday}`));
    await page.getByText('No grant was requested in this range.').waitFor();
    await page.getByLabel('To (UTC day, included)').fill(today);
    await page.waitForURL(new RegExp(`to=${today}`));
    await page.getByRole('img', { name: /Grants requested per day: 4 grants requested/ }).waitFor();
    await expectAccessible(page, 'insights, days from .. to');
  });

  it('should show a requester the API\'s refusal and no link to the page', async () => {
    const page = await signedIn(broker.tokens.requester);
    expect(await page.getByRole('link', { name: 'Insights' }).count()).toBe(0);
    await page.goto(`${broker.url}/console/insights`);
    await page.getByRole('alert').getByText('Could not read the figures').waitFor();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('403');
  });
});
