import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';
import { oathtool } from './oathtool.js';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API = '/api/v1/p/twofactor';

/**
 * `npm start` runs on the embedded database (PGlite), which has a single
 * connection: database work in login hooks or in look-ups during a route's
 * transaction must not wait for a second one. This walks the plugin's paths
 * that do such work there.
 */
describe('two-factor login on the embedded database (PGlite)', () => {
  let t: TestPanel;
  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir], config: { databaseUrl: undefined } });
    expect(t.panel.kernel.orm.config.get('driver').name).toMatch(/Pglite/i);
  });
  afterAll(async () => t?.close());

  it('enrols, logs in with a code, resets and disables without hanging', async () => {
    const c = t.as('customer');
    const start = await c.post(`${API}/enrolment`);
    expect(start.status).toBe(201);
    expect((await c.post(`${API}/enrolment/confirm`, { code: oathtool(start.body.secret) })).status).toBe(200);

    const browser = t.anonymous();
    const login = await browser.post('/api/v1/auth/login', { email: t.users.customer.email, password: t.users.customer.password });
    expect(login.status).toBe(401);
    expect((await browser.post('/api/v1/auth/login/factor', { ticket: login.body.ticket, factor: 'totp', response: { code: '000000' } })).status).toBe(401);
    const step = Math.floor(Date.now() / 30_000);
    const ok = await browser.post('/api/v1/auth/login/factor', { ticket: login.body.ticket, factor: 'totp', response: { code: oathtool(start.body.secret, new Date((step + 1) * 30_000)), trustDevice: true } });
    expect(ok.status).toBe(200);

    // Routes that look users up inside their transaction.
    await t.as('owner').request('PUT', '/api/v1/plugins/twofactor/settings', { requiredForRoles: ['customer'], trustedDeviceDays: 30, issuer: 'mpanel' });
    expect((await c.post(`${API}/disable`, { code: '000000' })).status).toBe(409);
    expect((await t.as('reseller').post(`${API}/users/${t.users.customer.id}/reset`)).body).toEqual({ userId: t.users.customer.id, reset: true });
    const enrolAtLogin = await t.anonymous().post('/api/v1/auth/login', { email: t.users.customer.email, password: t.users.customer.password });
    expect(enrolAtLogin.body.factors[0].factor).toBe('totp-enrol');

    expect((await t.as('owner').post('/api/v1/plugins/twofactor/disable')).status).toBe(200);
    const audit = await t.as('owner').get('/api/v1/audit?action=twofactor.login.password-only');
    expect(audit.body.items[0].details).toMatchObject({ reason: 'disable', enrolledUsers: 0 });
    expect((await t.anonymous().post('/api/v1/auth/login', { email: t.users.customer.email, password: t.users.customer.password })).status).toBe(200);
  });
});
