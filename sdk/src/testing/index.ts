/**
 * `@mpanel/sdk/testing` — boot a real panel (real core, real PostgreSQL) with
 * your plugin loaded, and get an HTTP client per built-in role.
 *
 * @example
 * const panel = await createTestPanel({ plugins: [new URL('..', import.meta.url).pathname] });
 * const res = await panel.as('customer').get('/api/v1/p/hello/hello');
 * await panel.close();
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TestClient } from './client.js';

export { TestClient, type ApiResponse } from './client.js';

/** The built-in roles the harness creates a logged-in user for. */
export type BuiltinRoleKey = 'owner' | 'admin' | 'reseller' | 'customer' | 'auditor';

export interface TestPanelOptions {
  /** Directories of plugin packages (with package.json + built entry) to install and enable. */
  plugins?: string[];
  /** Capabilities to approve for the plugins (default: everything they ask for). */
  approve?: string[];
  /** PostgreSQL server URL without database (default: MPANEL_TEST_PG or postgres://postgres@127.0.0.1:5432). */
  postgres?: string;
  /** Extra panel configuration (see @mpanel/core's PanelConfig). */
  config?: Record<string, unknown>;
  /** Plugin settings to apply after install, by plugin id. */
  settings?: Record<string, Record<string, unknown>>;
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  tenantId: string;
  client: TestClient;
}

export interface TestPanel {
  /** Base URL of the running panel, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Tenant tree: platform → reseller → customer (and a second customer under the reseller). */
  tenants: { platform: string; reseller: string; customer: string; otherCustomer: string };
  users: Record<BuiltinRoleKey, TestUser> & { otherCustomer: TestUser };
  /** A logged-in client for a built-in role. */
  as(role: BuiltinRoleKey | 'otherCustomer'): TestClient;
  /** A client without credentials. */
  anonymous(): TestClient;
  /** Runs SQL against the test database (assertions on your plugin's tables). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** The core Panel instance (advanced use: hooks, plugin host). Replaced by restart(). */
  panel: any;
  /** The test database (`postgres://…/<name>`) and the panel's data directory. */
  databaseUrl: string;
  dataDir: string;
  /**
   * Stops the panel (gracefully, like SIGTERM) and starts a new one on the same
   * database, data directory and port: sessions, plugins and data survive, the
   * existing clients keep working. For "the panel went away and came back" tests.
   */
  restart(): Promise<void>;
  /** The two halves of restart(), for tests that need the panel to stay away a while (e.g. agents buffering). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Starts a second panel process's worth of core on the same database and
   * data directory (another port), as behind a load balancer: for plugins
   * that use `ctx.cluster`. Stopped by close() if you don't stop it first.
   */
  startPeer(): Promise<TestPeer>;
  /** Stops the panel and drops the test database. */
  close(): Promise<void>;
}

/** Another panel process on the test panel's database (see TestPanel.startPeer). */
export interface TestPeer {
  url: string;
  /** The same user's session as `TestPanel.as(role)`, sent to this process. */
  as(role: BuiltinRoleKey | 'otherCustomer'): TestClient;
  anonymous(): TestClient;
  /** The peer's core Panel instance. */
  panel: any;
  close(): Promise<void>;
}

const PASSWORD = 'harness-password-123';

/**
 * Boots a real panel on a fresh PostgreSQL database with the given plugins,
 * creates a tenant tree with one logged-in user per built-in role and returns
 * clients for them. Needs `@mpanel/core` installed (a dev dependency of your plugin).
 */
export async function createTestPanel(options: TestPanelOptions = {}): Promise<TestPanel> {
  const server = options.postgres ?? process.env.MPANEL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
  const dbName = `mpanel_plugin_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: `${server}/postgres` });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`create database "${dbName}"`);
  const databaseUrl = `${server}/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-plugin-test-'));
  // Imported lazily: the SDK itself must not depend on core at run time.
  const core: any = await import('@mpanel/core' as string);
  let panel: any;
  try {
    const config = core.loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl, logLevel: process.env.MPANEL_TEST_LOG ?? 'silent', shutdownGraceSeconds: 1, ...options.config });
    // Core builds its own logger from logLevel (MPANEL_TEST_LOG=debug to see it).
    panel = await core.Panel.create(config);
    const { url, port } = await panel.listen(0, '127.0.0.1');
    for (const dir of options.plugins ?? []) {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      await panel.plugins.installLocal(dir, { capabilities: options.approve ?? pkg.mpanel?.capabilities ?? [] });
      const settings = options.settings?.[pkg.mpanel?.id];
      if (settings) await panel.plugins.updateSettings(pkg.mpanel.id, settings);
    }

    const owner = new TestClient(url);
    const ownerEmail = 'owner@harness.test';
    const setup = await owner.post('/api/v1/setup', { token: panel.setupToken, email: ownerEmail, password: PASSWORD, name: 'Owner' });
    if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
    await owner.login(ownerEmail, PASSWORD);
    const platform: string = setup.body.tenant.id;
    const tenant = async (parentId: string, kind: string, name: string) => {
      const r = await owner.post('/api/v1/tenants', { parentId, kind, name });
      if (r.status !== 201) throw new Error(`creating tenant ${name} failed: ${r.status} ${r.text}`);
      return r.body.id as string;
    };
    const reseller = await tenant(platform, 'reseller', 'Reseller');
    const customer = await tenant(reseller, 'customer', 'Customer');
    const otherCustomer = await tenant(reseller, 'customer', 'Other customer');
    const user = async (key: string, tenantId: string, role: string): Promise<TestUser> => {
      const email = `${key.toLowerCase()}@harness.test`;
      const r = await owner.post('/api/v1/users', { tenantId, email, name: key, password: PASSWORD, roles: [role] });
      if (r.status !== 201) throw new Error(`creating user ${key} failed: ${r.status} ${r.text}`);
      const client = new TestClient(url);
      await client.login(email, PASSWORD);
      return { id: r.body.id, email, password: PASSWORD, tenantId, client };
    };
    const users = {
      owner: { id: setup.body.user.id, email: ownerEmail, password: PASSWORD, tenantId: platform, client: owner },
      admin: await user('admin', platform, 'admin'),
      auditor: await user('auditor', platform, 'auditor'),
      reseller: await user('reseller', reseller, 'reseller'),
      customer: await user('customer', customer, 'customer'),
      otherCustomer: await user('otherCustomer', otherCustomer, 'customer'),
    };
    const peers = new Set<TestPeer>();
    const testPanel: TestPanel = {
      url,
      databaseUrl,
      dataDir,
      tenants: { platform, reseller, customer, otherCustomer },
      users,
      as: (role) => users[role].client,
      anonymous: () => new TestClient(url),
      sql: async (text, params = []) => {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        try {
          return (await c.query(text, params as unknown[])).rows;
        } finally {
          await c.end();
        }
      },
      panel,
      stop: () => panel.close(),
      start: async () => {
        // Plugins installed above are recorded in the database and come back on their own.
        panel = await core.Panel.create(config);
        testPanel.panel = panel;
        // The old listener is gone, but the kernel may hold the port a moment longer.
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            await panel.listen(port, '127.0.0.1');
            return;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      },
      restart: async () => {
        await testPanel.stop();
        await testPanel.start();
      },
      startPeer: async () => {
        const peerPanel = await core.Panel.create(config);
        let peerUrl: string;
        try {
          peerUrl = (await peerPanel.listen(0, '127.0.0.1')).url;
        } catch (err) {
          await peerPanel.close().catch(() => undefined);
          throw err;
        }
        const peer: TestPeer = {
          url: peerUrl,
          panel: peerPanel,
          as: (role) => users[role].client.against(peerUrl),
          anonymous: () => new TestClient(peerUrl),
          close: async () => {
            peers.delete(peer);
            await peerPanel.close();
          },
        };
        peers.add(peer);
        return peer;
      },
      close: async () => {
        for (const p of [...peers]) await p.close().catch(() => undefined);
        await panel.close();
        await admin(`drop database if exists "${dbName}" with (force)`);
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
    return testPanel;
  } catch (err) {
    await panel?.close().catch(() => undefined);
    await admin(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    throw err;
  }
}
