import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { startRegistry, writePluginPackage, helloAtVersion, type TestRegistry } from './helpers/registry.js';
import type { TestClient } from './helpers/client.js';

/** A plugin package whose server entry is `code` (plain ESM importing only @mpanel/sdk). */
function plugin(name: string, manifest: Record<string, unknown>, code: string, version = '1.0.0'): string {
  return writePluginPackage(
    { name, version, type: 'module', main: 'index.js', keywords: ['mpanel-plugin'], peerDependencies: { '@mpanel/sdk': '^0.1.0' }, mpanel: { sdk: '^0.1.0', ...manifest } },
    { 'index.js': code },
  );
}

const OK_PLUGIN = `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({ setup(ctx) {
  ctx.routes.add({ method: 'GET', path: '/ping', summary: 'ping', permission: 'account.self', handler: () => ({ pong: true }) });
  ctx.routes.add({ method: 'GET', path: '/boom', summary: 'throws', permission: 'account.self', handler: () => { throw new Error('kaboom in a route'); } });
} });`;

describe('plugin refusals and fault containment', () => {
  let registry: TestRegistry;
  let tp: TestPanel;
  let owner: TestClient;

  const install = (pkg: string, capabilities: string[] = []) => owner.post('/api/v1/plugins', { package: pkg, approve: { capabilities } });
  const healthy = async () => {
    expect((await tp.client().get('/readyz')).status).toBe(200);
    expect((await owner.get('/api/v1/auth/me')).status).toBe(200);
  };
  const auditedFailure = async (action: string) => {
    const res = await owner.get(`/api/v1/audit?action=${action}&outcome=failure`);
    expect(res.body.items.length).toBeGreaterThan(0);
    return res.body.items[0];
  };

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.publish(plugin('p-ok', { id: 'okay', displayName: 'OK' }, OK_PLUGIN));
    await registry.publish(plugin('p-badmanifest', { id: 'Bad Id!', displayName: '' }, OK_PLUGIN));
    await registry.publish(plugin('p-oldsdk', { id: 'oldsdk', displayName: 'Old', sdk: '^9.0.0' }, OK_PLUGIN));
    await registry.publish(plugin('p-needy', { id: 'needy', displayName: 'Needy', requires: { missing: '^1.0.0' } }, OK_PLUGIN));
    await registry.publish(plugin('p-exec', { id: 'execer', displayName: 'Exec', capabilities: ['exec'] }, OK_PLUGIN));
    await registry.publish(plugin('p-throws', { id: 'thrower', displayName: 'Thrower' }, `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({ setup(ctx) {
  ctx.routes.add({ method: 'GET', path: '/never', summary: 'x', permission: 'account.self', handler: () => ({}) });
  throw new Error('setup exploded');
} });`));
    await registry.publish(plugin('p-badtap', { id: 'badtap', displayName: 'Bad tap' }, `import { definePlugin, CORE_HOOKS } from '@mpanel/sdk';
export default definePlugin({ setup(ctx) {
  ctx.hooks.tap(CORE_HOOKS.loginSucceeded, async () => { throw new Error('tap exploded'); });
} });`));
    await registry.publish(plugin('p-tampered', { id: 'tampered', displayName: 'Tampered' }, OK_PLUGIN));
    tp = await startTestPanel({ config: { registryUrl: registry.url } });
    owner = await tp.owner();
    expect((await install('p-ok')).status).toBe(201);
  });
  afterAll(async () => {
    await tp?.close();
    await registry?.close();
  });

  it('bad manifest → 422 plugin-invalid naming the fields, audited, panel healthy', async () => {
    const res = await install('p-badmanifest');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('plugin-invalid');
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(expect.arrayContaining(['/mpanel/id', '/mpanel/displayName']));
    await auditedFailure('plugin.install');
    await healthy();
  });

  it('incompatible sdk range → 409 plugin-incompatible', async () => {
    const res = await install('p-oldsdk');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('plugin-incompatible');
    expect(res.body.detail).toContain('^9.0.0');
    await healthy();
  });

  it('missing required plugin → 409 plugin-dependency', async () => {
    const res = await install('p-needy');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('plugin-dependency');
    expect(res.body.detail).toContain('missing');
  });

  it('unapproved capabilities → 409 consent-required listing them; approved → installed', async () => {
    const res = await install('p-exec');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'consent-required', missing: ['exec'], capabilities: ['exec'] });
    expect((await owner.get('/api/v1/plugins')).body.map((p: { id: string }) => p.id)).not.toContain('execer');
    const ok = await install('p-exec', ['exec']);
    expect(ok.status).toBe(201);
    expect(ok.body.grantedCapabilities).toEqual(['exec']);
  });

  it('tarball integrity mismatch → 422 plugin-integrity, nothing installed', async () => {
    const dir = path.join(registry.storage, 'p-tampered');
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const file = path.join(dir, tgz);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const res = await install('p-tampered');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('plugin-integrity');
    expect((await owner.get('/api/v1/plugins')).body.map((p: { id: string }) => p.id)).not.toContain('tampered');
    expect(fs.existsSync(path.join(tp.dataDir, 'plugins', 'tampered'))).toBe(false);
    await healthy();
  });

  it('setup that throws → 422, marked failed with the error, its routes undone, audited', async () => {
    const res = await install('p-throws');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('plugin-setup-failed');
    expect(res.body.detail).toContain('setup exploded');
    const rec = await owner.get('/api/v1/plugins/thrower');
    expect(rec.body).toMatchObject({ state: 'failed', running: false });
    expect(rec.body.lastError).toContain('setup exploded');
    expect((await owner.get('/api/v1/p/thrower/never')).status).toBe(404);
    const entry = await auditedFailure('plugin.failed');
    expect(entry.target).toBe('plugin:thrower');
    await healthy();
    expect((await owner.get('/api/v1/p/okay/ping')).status).toBe(200);
  });

  it('a route that throws → 500 for that route only; the error is recorded', async () => {
    const res = await owner.get('/api/v1/p/okay/boom');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal');
    expect(res.text).not.toContain('kaboom');
    expect((await owner.get('/api/v1/p/okay/ping')).status).toBe(200);
    await healthy();
    const rec = await owner.get('/api/v1/plugins/okay');
    expect(rec.body.state).toBe('enabled');
    expect(rec.body.lastError).toContain('kaboom in a route');
    expect(rec.body.errorCount).toBeGreaterThan(0);
    await auditedFailure('plugin.error');
  });

  it('a hook tap that throws does not break login; it is blamed on the plugin', async () => {
    expect((await install('p-badtap')).status).toBe(201);
    const c = tp.client();
    const login = await c.post('/api/v1/auth/login', { email: 'owner@example.test', password: 'correct-horse-battery-1' });
    expect(login.status).toBe(200);
    // The observer runs after the response; wait (bounded) for the error to be recorded.
    const deadline = Date.now() + 5000;
    let rec = await owner.get('/api/v1/plugins/badtap');
    while (!rec.body.lastError && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      rec = await owner.get('/api/v1/plugins/badtap');
    }
    expect(rec.body.lastError).toContain('tap exploded');
    await healthy();
  });

  it('disabling a plugin another one requires is refused', async () => {
    await registry.publish(plugin('p-dependent', { id: 'dependent', displayName: 'Dependent', requires: { okay: '^1.0.0' } }, `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({ setup() {} });`));
    expect((await install('p-dependent')).status).toBe(201);
    const res = await owner.post('/api/v1/plugins/okay/disable');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('plugin-dependency');
    expect((await owner.get('/api/v1/p/okay/ping')).status).toBe(200);
  });

  it('roles without plugin.manage cannot manage plugins', async () => {
    await registry.publish(helloAtVersion('1.0.0'));
    const res = await owner.post('/api/v1/users', { tenantId: (await owner.get('/api/v1/auth/me')).body.tenant.id, email: 'aud@x.test', name: 'Aud', password: 'auditor-secret-77', roles: ['auditor'] });
    expect(res.status).toBe(201);
    const admin = tp.client();
    await admin.login('aud@x.test', 'auditor-secret-77');
    expect((await admin.get('/api/v1/plugins')).status).toBe(200);
    const denied = await admin.post('/api/v1/plugins', { package: '@mpanel/plugin-hello', approve: { capabilities: [] } });
    expect(denied.status).toBe(403);
    expect((await admin.post('/api/v1/plugins/okay/disable')).status).toBe(403);
  });
});
