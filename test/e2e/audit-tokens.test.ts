// Audit log viewer (filters, live tail, export, chain status) and API tokens
// (created once, used, revoked) in a real browser; plus a second-factor login
// step contributed by a plugin's UI module through `shell.addLoginStep`.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestPanel, OWNER, type TestPanel } from '../../core/test/helpers/panel.js';
import { writePluginPackage } from '../../core/test/helpers/registry.js';
import type { TestClient } from '../../core/test/helpers/client.js';
import { ensureUiBuilt, launch, step } from './browser.js';

/** A local plugin demanding a PIN after the password for users named "pin", with its login step UI. */
function pinPlugin(): string {
  return writePluginPackage(
    { name: 'mpanel-plugin-pin', version: '1.0.0', type: 'module', main: 'index.js', peerDependencies: { '@mpanel/sdk': '^0.1.0' }, mpanel: { id: 'pin', displayName: 'PIN', sdk: '^0.1.0', ui: 'ui/index.js' } },
    {
      'index.js': `import { definePlugin, CORE_HOOKS } from '@mpanel/sdk';
export default definePlugin({
  setup(ctx) {
    ctx.hooks.tap(CORE_HOOKS.loginAfterPassword, async (state) => {
      if (state.subject.name === 'pin') state.requiredFactors.push({ factor: 'pin', label: 'PIN code', hints: { digits: 4 } });
      return state;
    });
    ctx.hooks.tap(CORE_HOOKS.loginVerifyFactor, async (attempt) => {
      if (attempt.factor !== 'pin') return undefined;
      return attempt.response.pin === '2468' ? { ok: true } : { ok: false, reason: 'Wrong PIN' };
    });
  },
});
`,
      'ui/index.js': `import { h, ref } from 'vue';
const PinStep = {
  props: ['factor', 'hints', 'submit'],
  setup(props) {
    const pin = ref('');
    const error = ref('');
    const go = async () => { error.value = ''; try { await props.submit({ pin: pin.value }); } catch (e) { error.value = e.message; } };
    return () => h('form', { 'data-testid': 'pin-step', onSubmit: (e) => { e.preventDefault(); go(); } }, [
      h('label', ['PIN (' + props.hints.digits + ' digits) ', h('input', { value: pin.value, onInput: (e) => (pin.value = e.target.value), 'aria-label': 'PIN' })]),
      h('button', { type: 'submit' }, 'Verify'),
      error.value ? h('p', { 'data-testid': 'pin-error' }, error.value) : null,
    ]);
  },
};
export function install(shell) {
  return shell.addLoginStep({ factor: 'pin', component: PinStep });
}
`,
    },
  );
}

describe('audit log, API tokens and a second-factor login step in Chromium', () => {
  let panel: TestPanel;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let api: TestClient;

  beforeAll(async () => {
    const uiDir = ensureUiBuilt();
    panel = await startTestPanel({ config: { uiDir }, plugins: [pinPlugin()] });
    api = await panel.owner();
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await panel?.close();
  });

  async function login(email: string, password: string) {
    await page.goto(`${panel.url}/login`);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('filters the audit log, tails it live, exports it and shows the chain status', async () => {
    await step(page, 'login', async () => {
      await login(OWNER.email, OWNER.password);
      await page.getByTestId('dashboard').waitFor();
    });
    await step(page, 'audit filters', async () => {
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.waitForURL('**/audit');
      await expect.poll(() => page.getByTestId('verify-status').textContent()).toMatch(/Chain intact \(\d+ entries/);
      await page.getByRole('cell', { name: 'auth.login' }).first().waitFor();
      await page.getByLabel('Action (exact)').fill('setup.complete');
      await page.getByTestId('apply-filters').click();
      await expect.poll(async () => (await page.locator('tbody tr').allTextContents()).length).toBe(1);
      expect(await page.locator('tbody').textContent()).toContain('setup.complete');
      await page.getByLabel('Action (exact)').fill('');
      await page.getByLabel('Action prefix').fill('auth.');
      await page.getByLabel('Outcome').selectOption('failure');
      await page.getByTestId('apply-filters').click();
      await page.getByText('Nothing matches these filters.').waitFor();
    });
    await step(page, 'live tail', async () => {
      await page.getByLabel('Outcome').selectOption('');
      await page.getByTestId('apply-filters').click();
      await page.getByTestId('live-tail').click();
      await expect.poll(() => page.getByTestId('live-tail').textContent()).toContain('Live');
      await page.getByText('● Live').waitFor();
      // Something happens elsewhere: a failed login appears without reloading the list.
      const other = panel.client();
      const res = await other.post('/api/v1/auth/login', { email: OWNER.email, password: 'not-the-password-1' });
      expect(res.status).toBe(401);
      await page.locator('tbody tr', { hasText: 'failure' }).first().waitFor();
    });
    await step(page, 'export', async () => {
      const href = await page.getByTestId('export-csv').getAttribute('href');
      expect(href).toContain('format=csv');
      expect(href).toContain('actionPrefix=auth.');
      const csv = await page.evaluate(async (u) => (await fetch(u!)).text(), href);
      expect(csv.split('\n')[0]).toContain('seq,at,actorType');
      expect(csv).toContain('auth.login');
      expect(csv).not.toContain('setup.complete');
    });
  }, 120_000);

  it('creates an API token that is shown once, works, and can be revoked', async () => {
    let secret = '';
    await step(page, 'create token', async () => {
      await page.goto(`${panel.url}/account/tokens`);
      await page.getByTestId('new-token').click();
      await page.getByLabel('Name').fill('ci-script');
      await page.getByLabel('Permissions').fill('audit.read audit.verify');
      await page.getByTestId('create-token').click();
      secret = (await page.getByTestId('token-secret').textContent())!.trim();
      expect(secret).toMatch(/^mpt_/);
      await page.getByRole('cell', { name: 'ci-script' }).waitFor();
    });
    const verify = await fetch(`${panel.url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${secret}` } });
    expect(verify.status).toBe(200);
    await step(page, 'shown once, then revoked', async () => {
      await page.reload();
      await page.getByRole('cell', { name: 'ci-script' }).waitFor();
      expect(await page.getByTestId('token-secret').count()).toBe(0);
      await page.getByTestId('revoke-ci-script').click();
      await page.getByTestId('confirm-danger').click();
      await page.getByTestId('toast-success').filter({ hasText: 'revoked' }).waitFor();
      await page.getByRole('cell', { name: 'ci-script' }).waitFor({ state: 'detached' });
    });
    expect((await fetch(`${panel.url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  }, 120_000);

  it('asks for the second factor with the step a plugin contributed', async () => {
    const tenantId = (await api.get('/api/v1/auth/me')).body.user.tenantId;
    const created = await api.post('/api/v1/users', { tenantId, email: 'pin@example.test', name: 'pin', password: 'pin-user-password-1', roles: ['admin'] });
    expect(created.status).toBe(201);
    await step(page, 'logout', async () => {
      await page.goto(panel.url);
      await page.getByTestId('logout').click();
      await page.waitForURL('**/login');
    });
    await step(page, 'second factor', async () => {
      await login('pin@example.test', 'pin-user-password-1');
      await page.getByTestId('pin-step').waitFor();
      expect(await page.getByTestId('login-step').textContent()).toContain('4 digits');
      await page.getByLabel('PIN').fill('1111');
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('Wrong PIN');
      await page.getByLabel('PIN').fill('2468');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByTestId('dashboard').waitFor();
      expect(await page.getByTestId('user-menu').textContent()).toContain('pin');
    });
  }, 120_000);
});
