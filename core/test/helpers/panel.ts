import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Panel, loadConfig, type PanelConfig, type PanelOptions } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { TestClient } from './client.js';

export const OWNER = { email: 'owner@example.test', password: 'correct-horse-battery-1', name: 'Owner' };

export interface TestPanel {
  panel: Panel;
  db: TestDatabase | null;
  url: string;
  dataDir: string;
  config: PanelConfig;
  /** A fresh client with no credentials. */
  client(): TestClient;
  /** Runs setup (if not done) and returns a client logged in as the platform owner. */
  owner(): Promise<TestClient>;
  close(): Promise<void>;
}

export interface StartOptions extends PanelOptions {
  config?: Partial<PanelConfig>;
  /** Use the embedded PGlite in dataDir instead of a fresh PostgreSQL database. */
  pglite?: boolean;
  dataDir?: string;
  /** Reuse an existing database instead of creating one (restart tests). */
  db?: TestDatabase;
}

/** Boots a real panel on a fresh PostgreSQL database (or PGlite) on a free loopback port. */
export async function startTestPanel(opts: StartOptions = {}): Promise<TestPanel> {
  const db = opts.pglite ? null : (opts.db ?? (await createTestDatabase()));
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-test-'));
  const config = loadConfig({}, {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: db?.url,
    logLevel: 'silent',
    shutdownGraceSeconds: 2,
    ...opts.config,
  });
  const panel = await Panel.create(config, { logger: pino({ level: process.env.MPANEL_TEST_LOG ?? 'silent' }), ...opts });
  const { url } = await panel.listen(0, '127.0.0.1');
  let ownerClient: TestClient | null = null;
  const tp: TestPanel = {
    panel,
    db,
    url,
    dataDir,
    config,
    client: () => new TestClient(url),
    owner: async () => {
      if (ownerClient) return ownerClient;
      const c = new TestClient(url);
      if (panel.setupToken) {
        const res = await c.post('/api/v1/setup', { token: panel.setupToken, ...OWNER });
        if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${res.text}`);
      }
      await c.login(OWNER.email, OWNER.password);
      ownerClient = c;
      return c;
    },
    close: async () => {
      await panel.close();
      if (db && !opts.db) await db.drop();
    },
  };
  return tp;
}

/** Two panel processes' worth of core on one fresh database (see startPanelPair). */
export interface PanelPair {
  db: TestDatabase;
  a: TestPanel;
  /** Replace it (e.g. after restarting B) and close() closes the new one. */
  b: TestPanel;
  ownerA: TestClient;
  ownerB: TestClient;
  close(): Promise<void>;
}

/**
 * A and B on one new PostgreSQL database, as two processes behind a load
 * balancer. A is set up before B starts (every start before setup issues a
 * new setup token); both owners are logged in.
 */
export async function startPanelPair(opts: Omit<StartOptions, 'db'> = {}): Promise<PanelPair> {
  const db = await createTestDatabase();
  const a = await startTestPanel({ ...opts, db });
  const ownerA = await a.owner();
  const b = await startTestPanel({ ...opts, db });
  const pair: PanelPair = {
    db, a, b, ownerA, ownerB: await b.owner(),
    close: async () => {
      await pair.b.close();
      await pair.a.close();
      await db.drop();
    },
  };
  return pair;
}
