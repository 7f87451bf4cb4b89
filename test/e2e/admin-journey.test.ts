// The admin journey in a real browser: setup → login → plugin manager →
// install examples/hello from a real Verdaccio with consent → its panel,
// menu entry and widget appear without a reload → disable → they go away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestPanel, OWNER, type TestPanel } from '../../core/test/helpers/panel.js';
import { startRegistry, helloAtVersion } from '../../core/test/helpers/registry.js';
import type { TestClient } from '../../core/test/helpers/client.js';
import { ensureUiBuilt, launch, step } from './browser.js';

const HELLO = '@mpanel/plugin-hello';

describe('admin journey in Chromium', () => {
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let panel: TestPanel;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let api: TestClient;

  beforeAll(async () => {
    const uiDir = ensureUiBuilt();
    registry = await startRegistry();
    await registry.publish(helloAtVersion('1.0.0'));
    await registry.publish(helloAtVersion('1.1.0'));
    panel = await startTestPanel({ config: { uiDir, registryUrl: registry.url } });
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await panel?.close();
    await registry?.close();
  });

  const menuEntry = () => page.getByTestId('menu-hello:hello');

  it('sets up, logs in, installs a plugin with consent and sees it live; disabling removes it live', async () => {
    await step(page, 'setup', async () => {
      await page.goto(panel.url);
      await page.waitForURL('**/setup');
      await page.getByLabel('Setup token').fill(panel.panel.setupToken!);
      await page.getByLabel('Your name').fill(OWNER.name);
      await page.getByLabel('E-mail').fill(OWNER.email);
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: 'Complete setup' }).click();
      await page.getByTestId('dashboard').waitFor();
    });

    await step(page, 'logout and login', async () => {
      await page.getByTestId('logout').click();
      await page.waitForURL('**/login');
      await page.getByLabel('E-mail').fill(OWNER.email);
      await page.getByLabel('Password').fill('wrong-password-123');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('wrong');
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('dashboard').waitFor();
      // A marker that a full page reload would wipe out.
      await page.evaluate(() => ((window as unknown as { __noReload: number }).__noReload = 42));
    });

    // Setup happened in the browser: log a second client in for actions from "elsewhere".
    api = panel.client();
    await api.login(OWNER.email, OWNER.password);

    await step(page, 'open the plugin manager and the consent screen', async () => {
      await page.getByRole('link', { name: 'Plugins', exact: true }).click();
      await page.waitForURL('**/plugins');
      await page.getByTestId(`install-${HELLO}`).click();
      const consent = page.getByTestId('consent');
      await consent.waitFor();
      await expect.poll(() => consent.textContent()).toContain('hello.write');
      expect(await consent.textContent()).toContain('Add and delete greetings');
      expect(await page.getByTestId('capabilities').textContent()).toContain('None');
      // No install without explicit consent.
      expect(await page.getByTestId('consent-confirm').isDisabled()).toBe(true);
      await page.getByTestId('version-select').selectOption('1.0.0');
      await page.getByTestId('consent-checkbox').check();
      await page.getByTestId('consent-confirm').click();
      // The version picked in the dialog is the one installed (not the preview shown before the pick).
      await page.getByTestId('toast-success').filter({ hasText: '1.0.0 installed' }).waitFor();
    });

    await step(page, 'menu entry and panel appear without a reload', async () => {
      await menuEntry().waitFor();
      expect(await page.getByTestId('plugin-state-hello').textContent()).toContain('enabled');
      await menuEntry().click();
      await page.waitForURL('**/hello');
      await page.getByTestId('hello-panel').waitFor();
      await page.getByLabel('Greeting').fill('hi from chromium');
      await page.getByRole('button', { name: 'Add' }).click();
      await page.getByText('hi from chromium').waitFor();
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await expect.poll(() => page.getByTestId('hello-widget').textContent()).toBe('hi from chromium');
      expect(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload)).toBe(42);
    });

    await step(page, 'disable in the UI: menu and page disappear', async () => {
      await page.getByRole('link', { name: 'Plugins', exact: true }).click();
      await page.getByTestId('disable-hello').click();
      await page.getByTestId('toast-success').filter({ hasText: 'disabled' }).waitFor();
      await menuEntry().waitFor({ state: 'detached' });
      await page.evaluate(() => history.pushState({}, '', '/hello'));
      await page.evaluate(() => window.dispatchEvent(new PopStateEvent('popstate')));
      await page.getByTestId('not-found').waitFor();
    });

    await step(page, 'enabled elsewhere: the server tells the shell over socket.io', async () => {
      const res = await api.post('/api/v1/plugins/hello/enable');
      expect(res.status).toBe(200);
      await menuEntry().waitFor();
      await menuEntry().click();
      await page.getByTestId('hello-panel').waitFor();
      // Disabled elsewhere while its page is open: the page goes away live.
      expect((await api.post('/api/v1/plugins/hello/disable')).status).toBe(200);
      await page.getByTestId('not-found').waitFor();
      await menuEntry().waitFor({ state: 'detached' });
      expect(await page.evaluate(() => (window as unknown as { __noReload?: number }).__noReload)).toBe(42);
    });

    await step(page, 'upgrade and uninstall from the UI', async () => {
      expect((await api.post('/api/v1/plugins/hello/enable')).status).toBe(200);
      await page.getByRole('link', { name: 'Plugins', exact: true }).click();
      await page.getByTestId('upgrade-hello').click();
      await page.getByTestId('consent').waitFor();
      await page.getByTestId('version-select').selectOption('1.1.0');
      await page.getByTestId('consent-checkbox').check();
      await page.getByTestId('consent-confirm').click();
      await page.getByTestId('toast-success').filter({ hasText: 'upgraded to 1.1.0' }).waitFor();
      await menuEntry().waitFor();
      await page.getByTestId('uninstall-hello').click();
      await page.getByTestId('confirm-input').fill('hello');
      await page.getByTestId('confirm-danger').click();
      await page.getByTestId('toast-success').filter({ hasText: 'uninstalled' }).waitFor();
      await menuEntry().waitFor({ state: 'detached' });
    });

    expect(browser.errors.filter((e) => !/status of 40[134]/.test(e))).toEqual([]);
  }, 240_000);
});
