import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './harness/axe';
import { launchChromium } from './harness/chromium';
import { startConsoleBroker, type ConsoleBroker } from './harness/console-broker';
import { describeInBrowser } from './harness/describe-in-browser';
import { screenshot } from './harness/screenshot';

/**
 * The Discovery (issue 16) and Reviews (issue 17) pages in Chromium against the sandbox and its
 * cloud simulators (which hold standing access): a scan started and followed to its end, the
 * summary and findings it found, a removal asked by one admin and approved by the other, a
 * reviewer deciding items in bulk, and an auditor's report. axe on every page, no CSP violation.
 */
const TEST_TIMEOUT_MS = 240_000;

const REVIEWS = `version: 1
campaigns:
  - name: standing-aws
    description: Standing access in the sandbox's AWS account
    duration: P7D
    scope: { standing: { clouds: [aws] } }
    reviewers: { groups: [sre] }
`;

describeInBrowser('console discovery and reviews pages', () => {
  let broker: ConsoleBroker;
  let browser: Browser;
  let dir: string;
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];

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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-console-reviews-'));
    writeFileSync(join(dir, 'reviews.yaml'), REVIEWS);
    broker = await startConsoleBroker({ JIT_REVIEWS_FILE: join(dir, 'reviews.yaml') });
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should start a scan, follow its progress to the end, and show the summary and the findings it found', async () => {
    const page = await signedIn(broker.tokens.admin);
    await page.getByRole('link', { name: 'Discovery' }).click();
    await page.getByText('No scan yet.').waitFor();
    await page.getByRole('button', { name: 'Scan now' }).click();
    // Followed without a reload: running, then completed, with the parts and assignments counted.
    const progress = page.locator('.scan-progress');
    await progress.locator('.badge', { hasText: 'completed' }).waitFor({ timeout: 180_000 });
    const text = await progress.innerText();
    const [, done, total, assignments] = /(\d+) of (\d+) parts done · (\d+) assignments read/.exec(text) ?? [];
    expect(Number(total)).toBeGreaterThan(0);
    expect(done).toBe(total);
    expect(Number(assignments)).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Scan now' }).isEnabled()).toBe(true);

    // The tiles and the findings are read again once the scan ends.
    const privileged = page.locator('.stat-tile').filter({ has: page.locator('dt', { hasText: /^Privileged$/ }) }).locator('dd');
    for (let waited = 0; (await privileged.innerText()) === '0'; waited += 250) {
      if (waited > 20_000) throw new Error('the summary still counts no privileged assignment after the scan');
      await page.waitForTimeout(250);
    }
    await page.getByRole('figure', { name: 'Standing privileged access by cloud' }).waitFor();
    const rows = page.getByRole('table', { name: 'Findings' }).getByRole('row');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBeGreaterThan(1);
    await expectAccessible(page, 'discovery');
    await screenshot(page, 'discovery');

    // Filters go to the API and into the export links.
    await page.getByLabel('Cloud', { exact: true }).selectOption('aws');
    await page.getByLabel('Privileged', { exact: true }).selectOption('true');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/cloud=aws/);
    // The unfiltered page stays on screen until the filtered one arrives: wait for the table to change.
    const cloudCells = page.getByRole('table', { name: 'Findings' }).locator('td[data-label="Cloud"]');
    let clouds = await cloudCells.allInnerTexts();
    for (let waited = 0; clouds.length === 0 || clouds.some((c) => c !== 'AWS'); waited += 250) {
      if (waited > 10_000) break;
      await page.waitForTimeout(250);
      clouds = await cloudCells.allInnerTexts();
    }
    expect(new Set(clouds)).toEqual(new Set(['AWS']));
    expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/v1/discovery/findings?cloud=aws&privileged=true&format=csv');
    const csv = await page.request.get(`${broker.url}/v1/discovery/findings?cloud=aws&privileged=true&format=csv`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');

    // A bad filter is the broker's 400, shown at the field.
    await page.getByLabel('Unused for at least (days)').fill('-3');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#df-unusedFor-error').waitFor();
    expect(await page.getByLabel('Unused for at least (days)').getAttribute('aria-invalid')).toBe('true');
  }, TEST_TIMEOUT_MS);

  it('should take a removal asked by one admin through another admin\'s approval', async () => {
    const first = await signedIn(broker.tokens.admin);
    await first.goto(`${broker.url}/console/discovery?cloud=aws&privileged=true&status=open`);
    const link = first.getByRole('table', { name: 'Findings' }).getByRole('row').nth(1).getByRole('link');
    await link.click();
    await first.waitForURL(/\/console\/discovery\/findings\/[^/]+$/);
    const url = first.url();
    await first.getByRole('heading', { name: 'Why privileged' }).waitFor();
    for (const fact of ['Who', 'What', 'Where', 'Since', 'Last use']) await first.getByRole('term').filter({ hasText: new RegExp(`^${fact}$`) }).waitFor();
    await expect(first.getByLabel('Proposed rules entry').innerText()).resolves.toContain('"name"');
    await first.getByText('No removal was asked for.').waitFor();

    // The justification is required: the button waits for it.
    const request = first.getByRole('button', { name: 'Request removal' });
    expect(await request.isDisabled()).toBe(true);
    await first.getByLabel('Why remove this standing access (required)').fill('unused admin access, INC-12');
    await request.click();
    await first.getByText('pending approval').waitFor();
    await first.getByText('You asked for it: another admin decides.').waitFor();
    expect(await first.getByRole('button', { name: 'Approve removal' }).count()).toBe(0);
    await expectAccessible(first, 'finding with a pending removal');
    await screenshot(first, 'finding');

    const second = await signedIn(broker.tokens.admin2);
    await second.goto(url);
    await second.getByText('“unused admin access, INC-12”', { exact: false }).waitFor();
    await second.getByLabel(/^Comment/).fill('agreed');
    await second.getByRole('button', { name: 'Approve removal' }).click();
    // Applied in the cloud simulator in the approving request.
    await second.locator('.removal .badge', { hasText: 'applied' }).waitFor();
    await expect(second.locator('.removal').innerText()).resolves.toMatch(/Approvals 1\/1 · sandbox-admin-2/);
    await second.getByRole('button', { name: 'Restore the access' }).waitFor();
    await expectAccessible(second, 'finding with an applied removal');
  }, TEST_TIMEOUT_MS);

  it('should let a reviewer decide items in bulk, and an auditor open the report', async () => {
    // The admin starts a campaign from its definition, over the findings the scan stored.
    const admin = await signedIn(broker.tokens.admin);
    await admin.goto(`${broker.url}/console/reviews`);
    await admin.getByText('No review campaign has started yet.').waitFor();
    await admin.getByLabel('Start a campaign now').selectOption('standing-aws');
    await admin.getByRole('button', { name: 'Start', exact: true }).click();
    await admin.waitForURL(/\/console\/reviews\/[^/]+$/);
    const read = await fetch(`${broker.url}/v1/reviews/campaigns/${admin.url().split('/').pop()!}`, { headers: { Authorization: `Bearer ${broker.tokens.admin}` } });
    expect(read.status).toBe(200);
    const campaign = (await read.json()) as { id: string; counts: { total: number } };
    expect(campaign.counts.total).toBeGreaterThan(1);

    const reviewer = await signedIn(broker.tokens.approver);
    await reviewer.getByRole('link', { name: 'Reviews' }).click();
    const row = reviewer.getByRole('row').filter({ has: reviewer.getByRole('link', { name: 'standing-aws' }) });
    await expect(row.innerText()).resolves.toContain(`0 of ${campaign.counts.total} decided`);
    await expectAccessible(reviewer, 'review campaigns');
    await screenshot(reviewer, 'reviews');
    await row.getByRole('link', { name: 'standing-aws' }).click();
    await reviewer.waitForURL(new RegExp(`/console/reviews/${campaign.id}$`));

    // Every item on the page selected, kept in one decision with one justification.
    const items = reviewer.getByRole('table', { name: 'Items to review' });
    await items.getByRole('row').nth(1).waitFor();
    const facts = await items.getByRole('row').nth(1).innerText();
    expect(facts).toMatch(/aws/i);
    await expectAccessible(reviewer, 'review campaign');
    await screenshot(reviewer, 'review-campaign');
    await reviewer.getByLabel('Select every item to decide on this page').check();
    await reviewer.getByRole('heading', { name: `Decide the selected items (${campaign.counts.total})` }).waitFor();
    const form = reviewer.getByRole('form', { name: 'Decide the selected items' });
    await form.getByLabel('Keep').check();
    await form.getByLabel('Justification (required)').fill('still needed by the platform team');
    await form.getByRole('button', { name: `Keep ${campaign.counts.total} selected` }).click();
    await reviewer.getByText(`${campaign.counts.total} decided.`).waitFor();
    await reviewer.getByText('Nothing left for you to decide in this campaign.').waitFor();
    await reviewer.getByText(`${campaign.counts.total} of ${campaign.counts.total} decided`).waitFor();
    // A reviewer is not an auditor: no report links.
    expect(await reviewer.getByRole('link', { name: 'Report CSV' }).count()).toBe(0);

    const auditor = await signedIn(broker.tokens.auditor);
    await auditor.goto(`${broker.url}/console/reviews/${campaign.id}`);
    const html = auditor.getByRole('link', { name: 'Printable report (HTML)' });
    expect(await html.getAttribute('href')).toBe(`/v1/reviews/campaigns/${campaign.id}/report?format=html`);
    const report = await auditor.request.get(`${broker.url}/v1/reviews/campaigns/${campaign.id}/report?format=html`);
    expect(report.status()).toBe(200);
    expect(report.headers()['content-type']).toContain('text/html');
    const body = await report.text();
    expect(body).toContain('standing-aws');
    expect(body).toContain('still needed by the platform team');
    const csv = await auditor.request.get(`${broker.url}${(await auditor.getByRole('link', { name: 'Report CSV' }).getAttribute('href'))!}`);
    expect(csv.status()).toBe(200);
    await expect(csv.text()).resolves.toContain('sandbox-approver-1');
    await auditor.getByRole('button', { name: 'Decided' }).click();
    await auditor.getByRole('table', { name: 'Items to review' }).getByText('still needed by the platform team', { exact: false }).first().waitFor();
    await expectAccessible(auditor, 'review campaign as auditor');
    expect(cspViolations).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
