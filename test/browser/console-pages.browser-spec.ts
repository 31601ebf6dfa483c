import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './harness/axe';
import { launchChromium } from './harness/chromium';
import { startConsoleBroker, type ConsoleBroker } from './harness/console-broker';
import { describeInBrowser } from './harness/describe-in-browser';
import { screenshot } from './harness/screenshot';

/**
 * The console's pages (apps/console) in Chromium against the sandbox, each signed in by pasting the
 * sandbox's token: the request form's dry run, the approver inbox updating without a reload, the
 * requester's grants with countdown and revoke, a requester refused an approver's page by the API,
 * and the auditor's filtered timeline, export, chain status and grant history. axe on every page.
 */
/** Generous: a loaded CI machine runs Chromium, the sandbox and other tests on two cores. Not a speed check. */
const TEST_TIMEOUT_MS = 180_000;

describeInBrowser('console pages', () => {
  let broker: ConsoleBroker;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let grantId: string;

  async function signedIn(token: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${broker.url}/console/`);
    await page.getByLabel('Paste an API token').fill(token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  beforeAll(async () => {
    broker = await startConsoleBroker();
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await broker?.stop();
  });

  it('should show the dry run before sending: the rule and the approvals it needs, and the field a bad value is at', async () => {
    const page = await signedIn(broker.tokens.developer);
    await page.goto(`${broker.url}/console/request`);
    await page.getByLabel('Cloud *').selectOption('gcp');
    await page.getByLabel('Access kind *').selectOption('gcp.iam-binding');
    await page.getByLabel('resource *').fill('projects/sandbox-project');
    await page.getByLabel('role *').fill('roles/storage.admin');
    await page.getByLabel('Principal ID *').fill('user:dev@example.com');
    await page.getByLabel('Justification').fill('restore a deleted object');

    // Without a ticket the developers' rule denies, and the preview says which rule and why.
    const decision = page.getByTestId('decision');
    await decision.getByText('Would be denied').waitFor();
    await expect(decision.innerText()).resolves.toContain('developers-with-approval');
    expect(await page.getByRole('button', { name: 'Send request' }).isDisabled()).toBe(true);

    await page.getByLabel('Ticket').fill('INC-7');
    await decision.getByText('Needs approval').waitFor();
    await expect(decision.innerText()).resolves.toMatch(/developers-with-approval[\s\S]*2 approvals from sre/);
    // Before sending, the form names the durations this request may have (the dry run's bounds and the rule's maximum).
    await expect(page.locator('#duration-help').innerText()).resolves.toContain('Allowed here: 1 min to 8 h.');

    // A principal the kind refuses: the dry run's validation problem, shown at the field.
    await page.getByLabel('Principal ID *').fill('dev@example.com');
    await page.locator('#principal-id-error').waitFor();
    expect(await page.getByLabel('Principal ID *').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Principal ID *').fill('user:dev@example.com');
    await decision.getByText('Needs approval').waitFor();

    // The broker's duration bounds, as its validation names them, at the duration field.
    await page.getByLabel('Duration *', { exact: true }).selectOption('custom');
    await page.getByLabel('ISO-8601 duration *').fill('PT10H');
    await expect(page.locator('#duration-error').innerText()).resolves.toMatch(/between 60s and 28800s/);
    await page.getByLabel('Duration *', { exact: true }).selectOption('PT1H');
    await decision.getByText('Needs approval').waitFor();
    await expectAccessible(page, 'request form');
    await screenshot(page, 'request');
  }, TEST_TIMEOUT_MS);

  it('should put the request in both approvers\' inboxes without a reload, and take it out once decided', async () => {
    // Both approvers have their inbox open before the request is sent.
    const first = await signedIn(broker.tokens.approver);
    await first.goto(`${broker.url}/console/inbox`);
    await first.getByText('Nothing waits for your decision').waitFor();
    const second = await signedIn(broker.tokens.approver2, { width: 390, height: 844 });
    await second.goto(`${broker.url}/console/inbox`);
    await second.getByText('Nothing waits for your decision').waitFor();

    const dev = await signedIn(broker.tokens.developer);
    await dev.goto(`${broker.url}/console/request`);
    await dev.getByLabel('Cloud *').selectOption('gcp');
    await dev.getByLabel('resource *').fill('projects/sandbox-project');
    await dev.getByLabel('role *').fill('roles/storage.admin');
    await dev.getByLabel('Principal ID *').fill('user:dev@example.com');
    await dev.getByLabel('Justification').fill('restore a deleted object');
    await dev.getByLabel('Ticket').fill('INC-7');
    await dev.getByTestId('decision').getByText('Needs approval').waitFor();
    await dev.getByRole('button', { name: 'Send request' }).click();
    await dev.waitForURL(/\/console\/grants\/[0-9a-f-]{36}$/);
    grantId = dev.url().split('/').pop()!;
    await dev.getByText('pending approval').first().waitFor();

    const item = first.getByRole('article');
    await item.waitFor();
    const text = await item.innerText();
    for (const fact of ['sandbox-dev', 'restore a deleted object', 'INC-7', 'developers-with-approval', 'roles/storage.admin', 'none yet']) expect(text).toContain(fact);
    await expectAccessible(first, 'approver inbox');
    await screenshot(first, 'inbox');

    // A denial needs a comment: said at the field, nothing sent.
    await item.getByRole('button', { name: 'Deny' }).click();
    await item.getByText('A denial needs a comment').waitFor();
    await item.getByLabel('Comment').fill('checked INC-7');
    await item.getByRole('button', { name: 'Approve' }).click();
    await first.getByText('Nothing waits for your decision').waitFor();

    // The second approver's inbox shows the first approval, on a phone's width.
    const secondItem = second.getByRole('article');
    await secondItem.getByText('sandbox-approver-1').waitFor();
    await expect(secondItem.innerText()).resolves.toContain('checked INC-7');
    // No sideways scrolling on a phone (the root tsconfig has no DOM types: the page's code as a string).
    expect(await second.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(second, 'approver inbox on a phone');
    await secondItem.getByRole('button', { name: 'Approve' }).click();
    await second.getByText('Nothing waits for your decision').waitFor();

    // The requester's page follows the grant to active, with its countdown, without a reload.
    await dev.getByRole('timer').waitFor();
    await dev.getByText('active', { exact: true }).first().waitFor();
  }, TEST_TIMEOUT_MS);

  it('should list the requester\'s grants with a live countdown, and revoke one', async () => {
    const dev = await signedIn(broker.tokens.developer);
    await dev.goto(`${broker.url}/console/grants`);
    const row = dev.getByRole('row').filter({ has: dev.getByRole('link', { name: /roles\/storage\.admin/ }) });
    const timer = row.getByRole('timer');
    const before = await timer.innerText();
    // A function (run through the DevTools protocol), not a string: the console's CSP forbids eval.
    await dev.waitForFunction((t) => (globalThis as unknown as Dom).document.querySelector('[role=timer]')?.textContent !== t, before);
    await expectAccessible(dev, 'my grants');
    await screenshot(dev, 'my-grants');

    // Request again: the form starts as that request was, and the dry run follows.
    await row.getByRole('link', { name: /roles\/storage\.admin/ }).click();
    await dev.getByRole('button', { name: 'Request again' }).click();
    await dev.waitForURL(/\/console\/request$/);
    expect(await dev.getByLabel('role *').inputValue()).toBe('roles/storage.admin');
    expect(await dev.getByLabel('Ticket').inputValue()).toBe('INC-7');
    await dev.getByTestId('decision').getByText('Needs approval').waitFor();
    await dev.goto(`${broker.url}/console/grants`);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByLabel('Reason (optional)').fill('done early');
    await row.getByRole('button', { name: 'Confirm revoke' }).click();
    await dev.getByRole('button', { name: 'Active', exact: true }).click();
    await dev.getByText('No grants here yet').waitFor();
  }, TEST_TIMEOUT_MS);

  it('should let the API refuse a requester on an approver\'s page, and offer no link to it', async () => {
    const dev = await signedIn(broker.tokens.developer);
    expect(await dev.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts()).toEqual(['Request access', 'My grants']);
    await dev.goto(`${broker.url}/console/inbox`);
    const alert = dev.getByRole('alert');
    await alert.waitFor();
    await expect(alert.innerText()).resolves.toMatch(/Forbidden \(403\)[\s\S]*approver/);
  }, TEST_TIMEOUT_MS);

  it('should show the auditor the filtered timeline, its export, the chain status and the grant\'s history', async () => {
    const auditor = await signedIn(broker.tokens.auditor);
    await auditor.waitForURL(/\/console\/audit$/);
    await auditor.getByTestId('chain-status').getByText('Verified').waitFor();
    await auditor.getByRole('table').waitFor();

    await auditor.getByLabel('Event type').selectOption('grant.approved');
    await auditor.getByLabel('Actor').fill('sandbox-approver-1');
    await auditor.getByRole('button', { name: 'Apply filters' }).click();
    await auditor.waitForURL(/type=grant\.approved/);
    const rows = auditor.getByRole('table').locator('tbody tr');
    await auditor.waitForFunction(() => (globalThis as unknown as Dom).document.querySelectorAll('tbody tr').length === 1);
    await expect(rows.first().innerText()).resolves.toContain('sandbox-approver-1');
    await expectAccessible(auditor, 'audit timeline');
    await screenshot(auditor, 'audit');

    // The export is of exactly the filters applied.
    const csv = auditor.getByRole('link', { name: 'Export CSV' });
    const href = new URL((await csv.getAttribute('href'))!, broker.url);
    expect(Object.fromEntries(href.searchParams)).toEqual({ type: 'grant.approved', actor: 'sandbox-approver-1', format: 'csv' });
    const [download] = await Promise.all([auditor.waitForEvent('download'), csv.click()]);
    const lines = (await streamText(await download.createReadStream())).trim().split('\n');
    expect(lines).toHaveLength(2); // the header and the one approval
    expect(lines[1]).toContain('sandbox-approver-1');

    // The grant's full history, from the timeline's link.
    await rows.first().getByRole('link', { name: `grant ${grantId}` }).click();
    await auditor.waitForURL(new RegExp(`/console/grants/${grantId}$`));
    const history = auditor.locator('ol.timeline');
    await history.getByText('grant.revoked').waitFor();
    const types = await history.locator('.timeline-head .badge').allInnerTexts();
    expect(types).toEqual(expect.arrayContaining(['grant.requested', 'grant.approved', 'grant.activated', 'grant.revoke_requested', 'grant.revoked']));
    expect(types.indexOf('grant.requested')).toBe(0);
    await expectAccessible(auditor, 'grant history');
    await screenshot(auditor, 'grant-history');
  }, TEST_TIMEOUT_MS);
});

/** The little of the DOM the page functions use (the root tsconfig has no DOM types). */
interface Dom {
  document: { querySelector(selector: string): { textContent: string | null } | null; querySelectorAll(selector: string): { length: number } };
}

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
