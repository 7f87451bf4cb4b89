import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { startRegistry, helloAtVersion, type TestRegistry } from './helpers/registry.js';
import { sql } from './helpers/db.js';
import type { TestClient } from './helpers/client.js';

const MOOD_MIGRATION = `migrations.push({
  name: '0002-mood',
  up: async (db) => { await db.execute("alter table greeting add column mood text not null default 'happy'"); },
  down: async (db) => { await db.execute('alter table greeting drop column mood'); },
});`;

/**
 * Keeps requesting existing routes until stopped; counts anything that is not
 * the expected answer. Bounded: at most `max` requests.
 */
function loadGenerator(c: TestClient, max = 5000) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (!stop && ok + failures.length < max) {
      for (const [p, want] of [['/api/v1/auth/me', 200], ['/healthz', 200], ['/api/v1/tenants', 200]] as const) {
        try {
          const r = await c.get(p);
          if (r.status === want) ok++;
          else failures.push(`${p} → ${r.status}`);
        } catch (err) {
          failures.push(`${p} → ${(err as Error).message}`);
        }
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    async finish() {
      stop = true;
      await Promise.all(workers);
      return { ok, failures };
    },
  };
}

describe('plugins from a real Verdaccio registry', () => {
  let registry: TestRegistry;
  let tp: TestPanel;
  let owner: TestClient;

  beforeAll(async () => {
    registry = await startRegistry();
    await registry.publish(helloAtVersion('1.0.0'));
    tp = await startTestPanel({ config: { registryUrl: registry.url } });
    owner = await tp.owner();
  });
  afterAll(async () => {
    await tp?.close();
    await registry?.close();
  });

  it('lists the plugin in the catalog and previews what it asks for', async () => {
    const catalog = await owner.get('/api/v1/plugin-catalog');
    expect(catalog.status).toBe(200);
    expect(catalog.body.map((e: { name: string }) => e.name)).toContain('@mpanel/plugin-hello');
    const preview = await owner.get('/api/v1/plugin-catalog/preview?package=@mpanel/plugin-hello');
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ id: 'hello', version: '1.0.0', capabilities: [] });
    expect(preview.body.permissions.map((p: { name: string }) => p.name)).toEqual(['hello.read', 'hello.write']);
    expect(preview.body.integrity).toMatch(/^sha512-/);
  });

  it('refuses to install without the admin’s approval', async () => {
    const res = await owner.post('/api/v1/plugins', { package: '@mpanel/plugin-hello' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('consent-required');
    expect((await owner.get('/api/v1/plugins')).body).toEqual([]);
  });

  it('installs under load with zero failed requests, and the new route answers at once', async () => {
    const load = loadGenerator(owner);
    const preview = await owner.get('/api/v1/plugin-catalog/preview?package=@mpanel/plugin-hello');
    const res = await owner.post('/api/v1/plugins', { package: '@mpanel/plugin-hello', approve: { capabilities: [], integrity: preview.body.integrity } });
    const hello = await owner.get('/api/v1/p/hello/hello');
    const { ok, failures } = await load.finish();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'hello', version: '1.0.0', state: 'enabled', running: true, source: 'registry' });
    expect(hello.status).toBe(200);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    // Installed from its own versioned directory, with the tarball's integrity recorded.
    expect(fs.existsSync(path.join(tp.dataDir, 'plugins', 'hello', '1.0.0', 'package.json'))).toBe(true);
    expect(res.body.integrity).toBe(preview.body.integrity);
    const audit = await owner.get('/api/v1/audit?action=plugin.install&outcome=success');
    expect(audit.body.items.length).toBeGreaterThan(0);
  });

  it('disable → routes 404 and permission gone; enable → back', async () => {
    expect((await owner.post('/api/v1/plugins/hello/disable')).status).toBe(200);
    expect((await owner.get('/api/v1/p/hello/hello')).status).toBe(404);
    expect((await owner.get('/api/v1/permissions')).body.map((p: { name: string }) => p.name)).not.toContain('hello.read');
    expect((await owner.post('/api/v1/plugins/hello/disable')).status).toBe(409);
    expect((await owner.post('/api/v1/plugins/hello/enable')).status).toBe(200);
    expect((await owner.get('/api/v1/p/hello/hello')).status).toBe(200);
  });

  it('upgrades to 1.1.0 with a new migration, tracked per plugin and version', async () => {
    expect((await owner.post('/api/v1/p/hello/greetings', { message: 'before upgrade' })).status).toBe(201);
    await registry.publish(helloAtVersion('1.1.0', MOOD_MIGRATION));
    const res = await owner.post('/api/v1/plugins/hello/upgrade', {});
    expect(res.status).toBe(200);
    expect(res.body.version).toBe('1.1.0');
    const cols = await sql(tp.db!.url, "select column_name from information_schema.columns where table_schema = 'plugin_hello' and table_name = 'greeting'");
    expect(cols.map((c) => c.column_name)).toContain('mood');
    const tracked = await sql(tp.db!.url, "select name, version from plugin_migration where plugin_id = 'hello' order by name");
    expect(tracked).toEqual([{ name: '0001-greetings', version: '1.0.0' }, { name: '0002-mood', version: '1.1.0' }]);
    // Data survived the upgrade.
    const list = await owner.get('/api/v1/p/hello/greetings');
    expect(list.body.map((g: { message: string }) => g.message)).toContain('before upgrade');
  });

  it('a failed upgrade is rolled back and the old version keeps running', async () => {
    const broken = helloAtVersion('1.2.0', `${MOOD_MIGRATION.replace('0002-mood', '0002-mood')}
migrations.push({ name: '0003-broken', up: async (db) => { await db.execute('alter table greeting add column extra int'); await db.execute('select * from no_such_table'); }, down: async () => {} });`);
    await registry.publish(broken);
    const res = await owner.post('/api/v1/plugins/hello/upgrade', { version: '1.2.0' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('plugin-setup-failed');
    const now = await owner.get('/api/v1/plugins/hello');
    expect(now.body).toMatchObject({ version: '1.1.0', state: 'enabled', running: true });
    expect((await owner.get('/api/v1/p/hello/hello')).status).toBe(200);
    const cols = await sql(tp.db!.url, "select column_name from information_schema.columns where table_schema = 'plugin_hello' and table_name = 'greeting'");
    expect(cols.map((c) => c.column_name)).not.toContain('extra');
  });

  it('uninstall --purge drops its tables; the panel stays healthy', async () => {
    const res = await owner.delete('/api/v1/plugins/hello?purge=true');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'hello', purged: true });
    expect((await owner.get('/api/v1/p/hello/hello')).status).toBe(404);
    const schemas = await sql(tp.db!.url, "select schema_name from information_schema.schemata where schema_name = 'plugin_hello'");
    expect(schemas).toEqual([]);
    expect(await sql(tp.db!.url, "select * from plugin_migration where plugin_id = 'hello'")).toEqual([]);
    expect((await owner.get('/api/v1/plugins')).body).toEqual([]);
    expect((await tp.client().get('/readyz')).status).toBe(200);
  });

  it('uninstall without purge keeps the data', async () => {
    const preview = await owner.get('/api/v1/plugin-catalog/preview?package=@mpanel/plugin-hello&version=1.0.0');
    expect((await owner.post('/api/v1/plugins', { package: '@mpanel/plugin-hello', version: '1.0.0', approve: { capabilities: [], integrity: preview.body.integrity } })).status).toBe(201);
    expect((await owner.post('/api/v1/p/hello/greetings', { message: 'keep me' })).status).toBe(201);
    expect((await owner.delete('/api/v1/plugins/hello')).status).toBe(200);
    const rows = await sql(tp.db!.url, 'select message from plugin_hello.greeting');
    expect(rows.map((r) => r.message)).toContain('keep me');
  });
});
