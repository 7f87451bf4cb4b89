import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, sql, type TestDatabase } from './helpers/db.js';
import { ensureBuilt, runCli } from './helpers/build.js';
import { startTestPanel } from './helpers/panel.js';
import { TestClient } from './helpers/client.js';
import { coreMigrations } from '../src/db/migrations/index.js';

const OWNER = { email: 'cli-owner@example.test', name: 'CLI Owner', password: 'tangerine-lantern-77' };
const SUBCOMMANDS = [['start'], ['migrate'], ['user'], ['user', 'create'], ['token'], ['token', 'create'], ['audit'], ['audit', 'verify']];

describe('mpanel CLI (the real binary)', () => {
  const dbs: TestDatabase[] = [];
  const dirs: string[] = [];
  let db: TestDatabase;
  let env: Record<string, string>;

  const freshEnv = async () => {
    const d = await createTestDatabase('mpanel_cli');
    dbs.push(d);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-cli-'));
    dirs.push(dir);
    return { db: d, env: { DATABASE_URL: d.url, MPANEL_DATA_DIR: dir } };
  };

  beforeAll(async () => {
    await ensureBuilt();
    ({ db, env } = await freshEnv());
  });
  afterAll(async () => {
    for (const d of dbs) await d.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('usage', () => {
    it('--help prints usage and exits 0', async () => {
      const r = await runCli(['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: mpanel');
      for (const c of ['start', 'migrate', 'user', 'token', 'audit']) expect(r.stdout).toContain(c);
    });

    it.each(SUBCOMMANDS.map((c) => c.join(' ')))('%s --help prints usage and exits 0', async (cmd) => {
      const args = cmd.split(' ');
      const r = await runCli([...args, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: mpanel ${args.join(' ')}`);
    });

    it('user create --help documents its options', async () => {
      const r = await runCli(['user', 'create', '--help']);
      for (const o of ['--email', '--name', '--owner', '--password-stdin', '--tenant', '--role']) expect(r.stdout).toContain(o);
    });

    it('--version prints the version', async () => {
      const r = await runCli(['--version']);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('an unknown command exits 2 with a message on stderr', async () => {
      const r = await runCli(['frobnicate']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
      expect(r.stdout).toBe('');
    });

    it('an unknown option exits 2 with a message on stderr', async () => {
      for (const args of [['--frob'], ['migrate', '--frob'], ['user', 'create', '--email', 'a@b.test', '--name', 'X', '--frob']]) {
        const r = await runCli(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/unknown option '--frob'/);
      }
    });

    it('a missing required option or an extra argument exits 2', async () => {
      const missing = await runCli(['user', 'create', '--email', 'a@b.test']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/required option '--name <name>'/);
      const extra = await runCli(['audit', 'verify', 'extra']);
      expect(extra.code).toBe(2);
      expect(extra.stderr).toMatch(/too many arguments/);
    });

    it('bad configuration is a clear error, not a stack trace', async () => {
      const r = await runCli(['migrate'], { env: { DATABASE_URL: 'mysql://nope' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^mpanel: DATABASE_URL must start with postgres/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('an unreachable database fails fast with exit 1 instead of hanging', async () => {
      const r = await runCli(['audit', 'verify'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^mpanel: /);
    });
  });

  describe('on a fresh database', () => {
    it('migrate --status lists pending migrations, migrate applies them, then both say up to date', async () => {
      const names = coreMigrations.map((m) => m.name);
      expect(names.length).toBeGreaterThan(0);
      const status = await runCli(['migrate', '--status'], { env });
      expect(status.code).toBe(0);
      expect(status.stdout.trim()).toBe(`pending: ${names.join(', ')}`);
      const first = await runCli(['migrate'], { env });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout.trim()).toBe(`applied: ${names.join(', ')}`);
      const again = await runCli(['migrate'], { env });
      expect(again.code).toBe(0);
      expect(again.stdout.trim()).toBe('up to date');
      const status2 = await runCli(['migrate', '--status'], { env });
      expect(status2.stdout.trim()).toBe('up to date');
      const tables = await sql(db.url, `select 1 from information_schema.tables where table_name = 'audit_entry'`);
      expect(tables).toHaveLength(1);
    });

    it('user create with a bad e-mail or a short password fails with a clear error and creates nothing', async () => {
      const bad = await runCli(['user', 'create', '--owner', '--email', 'not-an-email', '--name', 'X', '--password-stdin'], { env, input: `${OWNER.password}\n` });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/e-mail/);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      const short = await runCli(['user', 'create', '--owner', '--email', OWNER.email, '--name', 'X', '--password-stdin'], { env, input: 'short\n' });
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/password/);
      const noPassword = await runCli(['user', 'create', '--owner', '--email', OWNER.email, '--name', 'X'], { env: { ...env, MPANEL_PASSWORD: '' } });
      expect(noPassword.code).toBe(1);
      expect(noPassword.stderr).toMatch(/--password-stdin/);
      expect(await sql(db.url, 'select id from app_user')).toEqual([]);
    });

    it('user create without --owner before setup explains what to do', async () => {
      const r = await runCli(['user', 'create', '--email', 'x@example.test', '--name', 'X', '--password-stdin'], { env, input: `${OWNER.password}\n` });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--owner/);
    });

    it('user create --owner creates the platform owner; setup is no longer needed and HTTP login works', async () => {
      // LOG_LEVEL=info: logs must not end up in the JSON on stdout.
      const r = await runCli(['user', 'create', '--owner', '--email', OWNER.email, '--name', OWNER.name, '--password-stdin'], { env: { ...env, LOG_LEVEL: 'info' }, input: `${OWNER.password}\n` });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]!);
      expect(out.user).toMatchObject({ email: OWNER.email, name: OWNER.name });
      expect(out.tenant.id).toBeTruthy();

      const tp = await startTestPanel({ db, dataDir: env.MPANEL_DATA_DIR });
      try {
        expect(tp.panel.setupToken).toBeNull();
        const c = tp.client();
        expect((await c.get('/api/v1/setup')).body).toEqual({ needed: false });
        await c.login(OWNER.email, OWNER.password);
        const me = await c.get('/api/v1/auth/me');
        expect(me.status).toBe(200);
        expect(me.body.user.email).toBe(OWNER.email);
        expect(me.body.tenant.id).toBe(out.tenant.id);
        // The CLI's action is in the audit trail, attributed to the CLI.
        const audit = await c.get('/api/v1/audit?action=setup.complete');
        expect(audit.body.items[0]).toMatchObject({ actorType: 'system', actorId: 'cli', target: `user:${out.user.id}`, outcome: 'success' });
        expect(audit.body.items[0].details).toMatchObject({ via: 'cli' });
      } finally {
        await tp.close();
      }

      const again = await runCli(['user', 'create', '--owner', '--email', 'second@example.test', '--name', 'Second', '--password-stdin'], { env, input: `${OWNER.password}\n` });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/[Ss]etup is done/);
      const dup = await runCli(['user', 'create', '--email', OWNER.email.toUpperCase(), '--name', 'Dup', '--password-stdin'], { env, input: `${OWNER.password}\n` });
      expect(dup.code).toBe(1);
      expect(dup.stderr).toMatch(/already exists/);
    });

    it('user create (not owner) with a role publishes user.created to a running panel; an unknown role is refused', async () => {
      const tp = await startTestPanel({ db, dataDir: env.MPANEL_DATA_DIR });
      const seen: Array<{ type: string; payload: Record<string, unknown> }> = [];
      tp.panel.kernel.events.subscribe('user.*', (e) => void seen.push(e));
      try {
        const r = await runCli(['user', 'create', '--email', 'cli-admin@example.test', '--name', 'CLI Admin', '--role', 'admin', '--password-stdin'], { env, input: 'harbour-violet-5150' });
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out).toMatchObject({ user: { email: 'cli-admin@example.test' }, roles: ['admin'] });
        // The running panel's outbox poll delivers what the CLI wrote (bounded wait).
        const deadline = Date.now() + 20_000;
        while (!seen.some((e) => e.type === 'user.created' && e.payload.id === out.user.id)) {
          if (Date.now() > deadline) throw new Error(`user.created from the CLI was not delivered; got ${JSON.stringify(seen)}`);
          await new Promise((res) => setTimeout(res, 50));
        }
        const c = tp.client();
        await c.login('cli-admin@example.test', 'harbour-violet-5150');
        expect((await c.get('/api/v1/audit?limit=1')).status).toBe(200);
      } finally {
        await tp.close();
      }
      const bad = await runCli(['user', 'create', '--email', 'cli-x@example.test', '--name', 'X', '--role', 'no-such-role', '--password-stdin'], { env, input: 'harbour-violet-5150' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/no-such-role/);
    });

    it('token create prints a secret that works as a Bearer token, limited to its permissions', async () => {
      const r = await runCli(['token', 'create', '--user', OWNER.email, '--name', 'ci', '--permission', 'tenant.read'], { env });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.secret).toMatch(/^mpt_/);
      expect(out.permissions).toEqual(['tenant.read']);
      const unknown = await runCli(['token', 'create', '--user', OWNER.email, '--name', 'ci', '--permission', 'no.such'], { env });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no\.such/);
      const nobody = await runCli(['token', 'create', '--user', 'nobody@example.test', '--name', 'ci'], { env });
      expect(nobody.code).toBe(1);
      expect(nobody.stderr).toMatch(/nobody@example\.test/);
      const badDays = await runCli(['token', 'create', '--user', OWNER.email, '--name', 'ci', '--days', 'many'], { env });
      expect(badDays.code).toBe(1);
      expect(badDays.stderr).toMatch(/days/);

      const tp = await startTestPanel({ db, dataDir: env.MPANEL_DATA_DIR });
      try {
        const c = new TestClient(tp.url);
        c.bearer = out.secret;
        expect((await c.get('/api/v1/tenants')).status).toBe(200);
        expect((await c.get('/api/v1/users')).status).toBe(403);
        c.bearer = 'mpt_wrong';
        expect((await c.get('/api/v1/tenants')).status).toBe(401);
      } finally {
        await tp.close();
      }
    });

    it('audit verify exits 0 on a clean chain and 1 (naming the entry) after tampering', async () => {
      const ok = await runCli(['audit', 'verify'], { env });
      expect(ok.code, ok.stderr).toBe(0);
      const res = JSON.parse(ok.stdout);
      expect(res.ok).toBe(true);
      expect(res.checked).toBeGreaterThanOrEqual(3);
      await sql(db.url, 'alter table audit_entry disable trigger audit_entry_no_change');
      await sql(db.url, `update audit_entry set action = 'x' where seq = 2`);
      await sql(db.url, 'alter table audit_entry enable trigger audit_entry_no_change');
      const broken = await runCli(['audit', 'verify'], { env });
      expect(broken.code).toBe(1);
      const out = JSON.parse(broken.stdout);
      expect(out.ok).toBe(false);
      expect(out.firstBroken).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
    });
  });

  describe('start', () => {
    it('exits 1 with a message when the port is taken, instead of hanging', async () => {
      const fresh = await freshEnv();
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const r = await runCli(['start'], { env: { ...fresh.env, PORT: String(port), HOST: '127.0.0.1' }, timeoutMs: 60_000 });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/EADDRINUSE|in use/);
      } finally {
        blocker.close();
      }
    });
  });
});
