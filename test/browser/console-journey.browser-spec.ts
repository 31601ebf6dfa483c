import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expectAccessible } from './harness/axe';
import { launchChromium } from './harness/chromium';
import { startConsoleBroker, type ConsoleBroker } from './harness/console-broker';
import { describeInBrowser } from './harness/describe-in-browser';
import { screenshot } from './harness/screenshot';

/** Long enough to approve and see it active; short enough to see it expire within the test. */
const GRANT_DURATION = 'PT40S';
const PRINCIPAL = 'user:alice@example.com';
/** A sandbox, a browser and several sign-ins per test, on a machine the test does not own. */
const TEST_TIMEOUT_MS = 600_000;

/**
 * Issue 15 point 7, as a new user meets the sandbox in a browser: alice signs in at the company
 * IdP, asks for access that needs two approvals, bob and carol approve from their own sessions,
 * the grant goes active and expires, and dave, an auditor by his company group, finds it and exports it. Also what the
 * sign-in leaves in the browser: an HttpOnly, SameSite=Strict session cookie the page cannot
 * read, no CSP violation, and a sign-out the server honours.
 */
describeInBrowser('the console, from sign-in to the auditor\'s export', () => {
  let broker: ConsoleBroker;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Every CSP violation any page reported. */
  const cspViolations: string[] = [];
  let grantId: string;

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    contexts.push(context);
    // The machine running the tests may be loaded: generous waits, but never a timed assertion.
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  /** The company sign-in: the console's button, the IdP's form, back in the console. */
  async function signInAtIdp(username: 'alice' | 'bob' | 'carol' | 'dave', shoot = false): Promise<Page> {
    const page = await newPage();
    await page.goto(`${broker.url}/console/`);
    await page.getByRole('link', { name: 'Sign in with your company account' }).click();
    await page.waitForURL(`${broker.idp}/authorize?**`);
    if (shoot) await screenshot(page, 'idp-sign-in');
    await page.getByRole('button', { name: new RegExp(`\\(${username}\\)`) }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  beforeAll(async () => {
    broker = await startConsoleBroker({ JIT_MIN_DURATION: 'PT10S', JIT_SWEEP_INTERVAL: 'PT2S' });
    browser = await launchChromium();
  }, TEST_TIMEOUT_MS);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await broker?.stop();
  });

  it('should sign in at the company IdP into an HttpOnly, SameSite=Strict session, and sign out on the server', async () => {
    const page = await newPage();
    await page.goto(`${broker.url}/console/`);
    await page.waitForURL(/\/console\/sign-in/);
    await page.getByRole('link', { name: 'Sign in with your company account' }).waitFor();
    await expectAccessible(page, 'sign-in page');
    await screenshot(page, 'sign-in');
    // On a phone: the same page, accessible, without sideways scrolling.
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(`${broker.url}/console/`);
    await phone.getByRole('link', { name: 'Sign in with your company account' }).waitFor();
    expect(await phone.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectAccessible(phone, 'sign-in page on a phone');
    await screenshot(phone, 'sign-in-phone');

    await page.getByRole('link', { name: 'Sign in with your company account' }).click();
    await page.waitForURL(`${broker.idp}/authorize?**`);
    await page.getByRole('button', { name: /\(bob\)/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await expect(page.locator('.user-name').innerText()).resolves.toBe('Bob SRE');

    const cookies = await page.context().cookies(broker.url);
    const session = cookies.find((c) => c.name === 'jit_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    // The page's own script cannot read it (HttpOnly), so an injected one could not either.
    expect(await page.evaluate<string>('document.cookie')).not.toContain('jit_session');
    expect((await page.context().request.get(`${broker.url}/v1/grants?awaiting=me`)).status()).toBe(200);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/sign-in/);
    // The cookie a copy of the browser kept is worth nothing: the session is gone from the database.
    const kept = (await newPage()).context();
    await kept.addCookies([{ ...session!, expires: -1 }]);
    expect((await kept.request.get(`${broker.url}/v1/grants`)).status()).toBe(401);
  }, TEST_TIMEOUT_MS);

  it('should take alice\'s request, needing two approvals, from the IdP sign-in to sending it', async () => {
    const alice = await signInAtIdp('alice', true);
    await alice.getByRole('link', { name: 'Request access' }).click();
    await alice.getByLabel('Cloud *').selectOption('gcp');
    await alice.getByLabel('resource *').fill('projects/sandbox-project');
    await alice.getByLabel('role *').fill('roles/storage.objectViewer');
    await alice.getByLabel('Principal ID *').fill(PRINCIPAL);
    await alice.getByLabel('Duration *').selectOption('custom');
    await alice.getByLabel('ISO-8601 duration *').fill(GRANT_DURATION);
    await alice.getByLabel('Justification').fill('read the restore logs');
    await alice.getByLabel('Ticket').fill('INC-42');
    const decision = alice.getByTestId('decision');
    await decision.getByText('Needs approval').waitFor();
    await expect(decision.innerText()).resolves.toMatch(/developers-with-approval[\s\S]*2 approvals/);
    await screenshot(alice, 'journey-request');

    await alice.getByRole('button', { name: 'Send request' }).click();
    await alice.waitForURL(/\/console\/grants\/[0-9a-f-]{36}$/);
    grantId = alice.url().split('/').pop()!;
    await alice.getByText('pending approval').first().waitFor();

    // Alice is a requester only (the company issuer makes only its sre group approvers), and no one approves their own request.
    const refused = await alice.evaluate<{ status: number }, string>(async (id) => {
      const session = (await (await fetch('/console/session')).json()) as { csrfToken: string };
      const response = await fetch(`/v1/grants/${id}/approve`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken },
        body: JSON.stringify({ comment: 'my own' }),
      });
      return { status: response.status };
    }, grantId);
    expect(refused.status).toBe(403);
  }, TEST_TIMEOUT_MS);

  it('should let bob and carol approve from their own sessions, and the grant go active then expire', async () => {
    for (const approver of ['bob', 'carol'] as const) {
      const page = await signInAtIdp(approver);
      await page.getByRole('link', { name: 'Approvals' }).click();
      const item = page.getByRole('article').filter({ hasText: 'INC-42' });
      await item.waitFor();
      await expect(item.innerText()).resolves.toContain('corp:alice');
      if (approver === 'carol') {
        await expect(item.innerText()).resolves.toContain('corp:bob');
        await expectAccessible(page, 'approver inbox');
        await screenshot(page, 'journey-inbox');
      }
      await item.getByLabel('Comment').fill(`ok from ${approver}`);
      await item.getByRole('button', { name: 'Approve' }).click();
      await item.waitFor({ state: 'detached' });
    }

    const alice = await signInAtIdp('alice');
    await alice.goto(`${broker.url}/console/grants/${grantId}`);
    await alice.getByText('active', { exact: true }).first().waitFor();
    await screenshot(alice, 'journey-grant-active');
    // The broker ends it at expiresAt; the page, reading the grant again until it ends, shows it without a reload.
    await alice.getByText('expired', { exact: true }).first().waitFor({ timeout: 300_000 });
    await expectAccessible(alice, 'expired grant');
    await screenshot(alice, 'journey-grant-expired');
  }, TEST_TIMEOUT_MS);

  it('should let the auditor, signed in at the company IdP, find the grant across the timeline and export exactly it', async () => {
    // Dave is in the company's audit group, which the sandbox's corp issuer makes auditors (groupRoles).
    const auditor = await signInAtIdp('dave');
    await auditor.getByRole('link', { name: 'Audit', exact: true }).click();
    await auditor.waitForURL(/\/console\/audit$/);

    await auditor.getByLabel('Principal').fill(PRINCIPAL);
    await auditor.getByRole('button', { name: 'Apply filters' }).click();
    await auditor.waitForURL(/principal=/);
    const table = auditor.getByRole('table');
    await table.getByText('grant.expired').first().waitFor();
    const types = await table.locator('tbody tr td[data-label="Type"]').allInnerTexts();
    expect(types.map((t) => t.trim())).toEqual(
      expect.arrayContaining(['grant.requested', 'grant.approved', 'grant.provisioned', 'grant.activated', 'grant.expired']),
    );
    await expectAccessible(auditor, 'audit timeline filtered by principal');
    await screenshot(auditor, 'journey-audit');

    // The export is of exactly the filters applied, and holds the grant's whole story.
    const csv = auditor.getByRole('link', { name: 'Export CSV' });
    expect(Object.fromEntries(new URL((await csv.getAttribute('href'))!, broker.url).searchParams)).toEqual({ principal: PRINCIPAL, format: 'csv' });
    const [download] = await Promise.all([auditor.waitForEvent('download'), csv.click()]);
    const text = await streamText(await download.createReadStream());
    for (const type of ['grant.requested', 'grant.approved', 'grant.activated', 'grant.expired']) expect(text).toContain(type);
    expect(text).toContain(grantId);
    expect(text).toContain('corp:carol');

    expect(cspViolations).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
