// In a real browser (Debian's Chromium driven by playwright-core) against the
// built web shell: a customer turns on two-factor login from the account page
// by reading the secret off the page, downloads the backup codes, logs out and
// logs in again with a TOTP code from oathtool.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureUiBuilt, launch, step as e2eStep } from '../../../test/e2e/browser.js';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';
import { oathtool } from './oathtool.js';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('two-factor login in Chromium', () => {
  let t: TestPanel;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;

  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir], config: { uiDir: ensureUiBuilt() } });
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const step = <T>(name: string, fn: () => Promise<T>) => e2eStep(page, `twofactor-${name}`, fn);
  /** Errors the page threw (console messages about refused requests are expected here). */
  const pageErrors = { get all() { return browser.errors.filter((e) => e.startsWith('pageerror')); } };

  const logInWithPassword = async () => {
    const { email, password } = t.users.customer;
    await page.goto(`${t.url}/login`);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  };

  it('enrols by reading the secret from the page, logs out, logs in with a TOTP code', async () => {
    await step('password login', async () => {
      await logInWithPassword();
      await page.getByTestId('dashboard').waitFor();
    });

    const secret = await step('enrol on the account page', async () => {
      await page.goto(`${t.url}/account`);
      await page.getByTestId('twofactor-enable').click();
      const qr = page.getByTestId('twofactor-qr');
      await qr.waitFor();
      expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
      // The QR code was drawn: it has a size in the page.
      expect((await qr.boundingBox())!.width).toBeGreaterThan(100);
      const s = (await page.getByTestId('twofactor-secret').textContent())!.trim();
      expect(s).toMatch(/^[A-Z2-7]{32}$/);
      await page.getByTestId('twofactor-code').fill(oathtool(s));
      await page.getByTestId('twofactor-confirm').click();
      await page.getByTestId('twofactor-backup-codes').waitFor();
      return s;
    });

    await step('download the backup codes', async () => {
      const codes = (await page.getByTestId('twofactor-backup-codes').locator('li').allTextContents()).map((c) => c.trim());
      expect(codes).toHaveLength(10);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('twofactor-download').click()]);
      expect(download.suggestedFilename()).toBe('mpanel-backup-codes.txt');
      const text = fs.readFileSync((await download.path())!, 'utf8');
      for (const c of codes) expect(text).toContain(c);
      await page.getByRole('button', { name: 'I have saved them' }).click();
      await expect.poll(() => page.getByTestId('twofactor-state').textContent()).toContain('10 backup codes left');
    });

    await step('log out', async () => {
      await page.getByTestId('logout').click();
      await page.waitForURL('**/login');
    });

    await step('log in with a TOTP code', async () => {
      await logInWithPassword();
      await page.getByTestId('twofactor-login').waitFor();
      // A wrong code is refused in the page…
      await page.getByTestId('twofactor-code').fill('000000');
      await page.getByTestId('twofactor-submit').click();
      await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/wrong|expired/);
      // …the code of the next step (the current one was spent on enrolment) lets the user in.
      const next = new Date((Math.floor(Date.now() / 30_000) + 1) * 30_000);
      await page.getByTestId('twofactor-code').fill(oathtool(secret, next));
      await page.getByTestId('twofactor-submit').click();
      await page.getByTestId('dashboard').waitFor();
      await expect.poll(() => page.getByTestId('widget-twofactor:twofactor').textContent()).toContain('On since');
    });

    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
    expect(me.user.email).toBe(t.users.customer.email);
    expect(pageErrors.all).toEqual([]);
  });

  it('walks a user whose role requires it through enrolment at login, then hands out the first backup codes', async () => {
    const set = await t.as('owner').request('PUT', '/api/v1/plugins/twofactor/settings', { requiredForRoles: ['reseller'], trustedDeviceDays: 0, issuer: 'ACME Panel' });
    expect(set.status).toBe(200);
    await step('log out the customer', async () => {
      await page.getByTestId('logout').click();
      await page.waitForURL('**/login');
    });
    await step('enrol in the login step', async () => {
      await page.getByLabel('E-mail').fill(t.users.reseller.email);
      await page.getByLabel('Password').fill(t.users.reseller.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      const enrol = page.getByTestId('twofactor-enrol-login');
      await enrol.waitFor();
      expect(await enrol.textContent()).toContain('Your role requires two-factor login');
      expect(await page.getByTestId('twofactor-trust').count()).toBe(0); // trusted devices are off
      const secret = (await page.getByTestId('twofactor-secret').textContent())!.trim();
      await page.getByTestId('twofactor-code').fill(oathtool(secret));
      await page.getByTestId('twofactor-submit').click();
      await page.getByTestId('dashboard').waitFor();
    });
    await step('first backup codes from the dashboard widget, once', async () => {
      const widget = page.getByTestId('widget-twofactor:twofactor');
      await widget.getByTestId('twofactor-first-codes').click();
      await widget.getByTestId('twofactor-backup-codes').waitFor();
      expect(await widget.locator('li').count()).toBe(10);
      await widget.getByRole('button', { name: 'I have saved them' }).click();
      await expect.poll(() => widget.textContent()).toContain('10 backup codes left');
      expect(await widget.getByTestId('twofactor-first-codes').count()).toBe(0);
    });
    expect(pageErrors.all).toEqual([]);
  });
});
