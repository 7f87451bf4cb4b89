import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, catalog, setupFixture, withMaria, withPg, type EngineName, type Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture();
});
afterAll(async () => f?.cleanup());

/** Runs SQL as a provisioned user on its database; resolves to null on success or the error message. */
async function asUser(engine: EngineName, user: string, password: string, database: string, sql: string): Promise<string | null> {
  try {
    if (engine === 'postgresql') await withPg((c) => c.query(sql), { user, password, database });
    else await withMaria((c) => c.query(sql), { user, password, database });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe.each(['postgresql', 'mariadb'] as const)('%s', (engine) => {
  const names = () => {
    const p = f.prefixes.customer;
    return { db: `${p}_${engine.slice(0, 2)}shop`, owner: `${p}_${engine.slice(0, 2)}app`, reader: `${p}_${engine.slice(0, 2)}ro` };
  };

  it('creates a database with an owner whose credentials really work', async () => {
    const n = names();
    const res = await f.t.as('customer').post(`${API}/databases`, { name: n.db, owner: n.owner, engine });
    expect(res.status, res.text).toBe(201);
    expect(res.body.database).toMatchObject({ name: n.db, tenantId: f.t.tenants.customer, status: 'ready', connection: { engine, database: n.db } });
    const { user, password } = res.body.owner;
    expect(user).toBe(n.owner);
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await asUser(engine, user, password, n.db, 'create table orders (id int primary key, note text)')).toBeNull();
    expect(await asUser(engine, user, password, n.db, "insert into orders values (1, 'x')")).toBeNull();

    const c = await catalog(f.prefixes.customer);
    if (engine === 'postgresql') {
      expect(c.pgDatabases).toContain(n.db);
      expect(c.pgRoles).toContain(n.owner);
    } else {
      expect(c.myDatabases).toContain(n.db);
      expect(c.myUsers).toContain(n.owner);
      // MariaDB checks passwords (the local PostgreSQL trusts loopback, so only here).
      expect(await asUser(engine, user, 'wrong-password', n.db, 'select 1')).not.toBeNull();
    }

    const list = await f.t.as('customer').get(`${API}/databases`);
    expect(list.body.map((d: { name: string }) => d.name)).toContain(n.db);
    const one = await f.t.as('customer').get(`${API}/databases/${res.body.database.id}`);
    expect(one.status).toBe(200);
    expect(one.body.sizeBytes).toBeGreaterThan(0);
    expect(one.body.grants).toEqual([{ userId: res.body.owner.id, user: n.owner, privilege: 'all' }]);
  });

  it('keeps other tenants out: API and server', async () => {
    const n = names();
    const mine = (await f.t.as('customer').get(`${API}/databases`)).body.find((d: { name: string }) => d.name === n.db);
    const other = f.t.as('otherCustomer');
    expect((await other.get(`${API}/databases`)).body.map((d: { name: string }) => d.name)).not.toContain(n.db);
    expect((await other.get(`${API}/databases/${mine.id}`)).status).toBe(404);
    expect((await other.delete(`${API}/databases/${mine.id}?confirm=${n.db}`)).status).toBe(404);
    // The other customer's own user can't be granted on our database, nor connect to it.
    const op = f.prefixes.otherCustomer;
    const theirs = await other.post(`${API}/databases`, { name: `${op}_${engine.slice(0, 2)}db`, owner: `${op}_${engine.slice(0, 2)}u`, engine });
    expect(theirs.status, theirs.text).toBe(201);
    expect((await other.request('PUT', `${API}/databases/${mine.id}/grants/${theirs.body.owner.id}`, { privilege: 'all' })).status).toBe(404);
    expect((await f.t.as('customer').request('PUT', `${API}/databases/${mine.id}/grants/${theirs.body.owner.id}`, { privilege: 'all' })).status).toBe(404);
    expect(await asUser(engine, theirs.body.owner.user, theirs.body.owner.password, n.db, 'select 1')).not.toBeNull();
    // A name with the other tenant's prefix is refused.
    const squat = await f.t.as('customer').post(`${API}/databases`, { name: `${op}_mine`, engine });
    expect(squat.status).toBe(422);
    expect(squat.body.code).toBe('invalid-name');
    // The reseller above both sees both.
    const reseller = (await f.t.as('reseller').get(`${API}/databases`)).body.map((d: { name: string }) => d.name);
    expect(reseller).toEqual(expect.arrayContaining([n.db, `${op}_${engine.slice(0, 2)}db`]));
  });

  it('grants read-only, revokes, rotates a password', async () => {
    const n = names();
    const db = (await f.t.as('customer').get(`${API}/databases`)).body.find((d: { name: string }) => d.name === n.db);
    const created = await f.t.as('customer').post(`${API}/users`, { name: n.reader, engine });
    expect(created.status, created.text).toBe(201);
    let password = created.body.password as string;
    const userId = created.body.user.id as string;
    const granted = await f.t.as('customer').request('PUT', `${API}/databases/${db.id}/grants/${userId}`, { privilege: 'read' });
    expect(granted.status, granted.text).toBe(200);
    expect(await asUser(engine, n.reader, password, n.db, 'select * from orders')).toBeNull();
    expect(await asUser(engine, n.reader, password, n.db, "insert into orders values (2, 'no')")).not.toBeNull();

    const rotated = await f.t.as('customer').post(`${API}/users/${userId}/password`);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.password).not.toBe(password);
    if (engine === 'mariadb') expect(await asUser(engine, n.reader, password, n.db, 'select 1')).not.toBeNull();
    password = rotated.body.password;
    expect(await asUser(engine, n.reader, password, n.db, 'select * from orders')).toBeNull();

    expect((await f.t.as('customer').delete(`${API}/databases/${db.id}/grants/${userId}`)).status).toBe(204);
    expect(await asUser(engine, n.reader, password, n.db, 'select * from orders')).not.toBeNull();
    const gone = await f.t.as('customer').delete(`${API}/users/${userId}?confirm=${n.reader}`);
    expect(gone.status, gone.text).toBe(204);
    const c = await catalog(f.prefixes.customer);
    expect([...c.pgRoles, ...c.myUsers]).not.toContain(n.reader);
  });

  it('refuses injection attempts and bad names with a 4xx naming the field', async () => {
    const p = f.prefixes.customer;
    const bad = [
      `${p}_x"; drop database postgres; --`, `${p}_x'`, `${p}_a;b`, `${p}_ѕhop` /* Cyrillic s */, `${p}_ＳＨＯＰ`, `${p}_${'a'.repeat(80)}`,
      `${p}_UPPER`, `${p}_`, 'shop', `${p}_with space`, `${p}_x\`y`,
    ];
    for (const name of bad) {
      const res = await f.t.as('customer').post(`${API}/databases`, { name, engine });
      expect(res.status, name).toBeGreaterThanOrEqual(400);
      expect(res.status, name).toBeLessThan(500);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      if (res.status === 422) expect(res.body.field).toBe('name');
    }
    const badOwner = await f.t.as('customer').post(`${API}/databases`, { name: `${p}_fine`, owner: `${p}_o'wner`, engine });
    expect(badOwner.status).toBe(422);
    expect(badOwner.body.field).toBe('owner');
    const c = await catalog(p);
    expect([...c.pgDatabases, ...c.myDatabases]).not.toContain(`${p}_fine`);
  });

  it('needs a typed confirmation to delete, then drops it from the server', async () => {
    const p = f.prefixes.customer;
    const name = `${p}_${engine.slice(0, 2)}tmp`;
    const created = await f.t.as('customer').post(`${API}/databases`, { name, engine });
    expect(created.status, created.text).toBe(201);
    const id = created.body.database.id;
    const wrong = await f.t.as('customer').delete(`${API}/databases/${id}?confirm=nope`);
    expect(wrong.status).toBe(422);
    expect(wrong.body.code).toBe('confirmation-required');
    expect((await f.t.as('customer').delete(`${API}/databases/${id}?confirm=${name}`)).status).toBe(204);
    const c = await catalog(p);
    expect([...c.pgDatabases, ...c.myDatabases]).not.toContain(name);
    expect((await f.t.as('customer').get(`${API}/databases/${id}`)).status).toBe(404);
  });
});

describe('permissions', () => {
  it('keeps servers for admins and changes away from read-only roles', async () => {
    expect((await f.t.as('customer').post(`${API}/servers`, { name: 'x', engine: 'postgresql', host: '127.0.0.1', port: 5432, adminUser: 'postgres' })).status).toBe(403);
    expect((await f.t.as('reseller').request('PUT', `${API}/tenants/${f.t.tenants.customer}/prefix`, { prefix: 'zz' })).status).toBe(403);
    expect((await f.t.as('auditor').post(`${API}/databases`, { name: `${f.prefixes.customer}_a` })).status).toBe(403);
    expect((await f.t.anonymous().get(`${API}/databases`)).status).toBe(401);
    const servers = await f.t.as('customer').get(`${API}/servers`);
    expect(servers.status).toBe(200);
    expect(servers.body[0]).not.toHaveProperty('adminUser');
    const admin = await f.t.as('admin').get(`${API}/servers`);
    expect(admin.body[0]).toHaveProperty('adminUser');
    expect(JSON.stringify(admin.body)).not.toContain('adminPassword');
    const sealed = await f.t.sql<{ admin_password_sealed: string }>('select admin_password_sealed from plugin_database.server');
    expect(sealed[0]!.admin_password_sealed.startsWith('v1')).toBe(true);
  });

  it('refuses a server it cannot reach, with the reason', async () => {
    const res = await f.t.as('admin').post(`${API}/servers`, { name: 'nowhere', engine: 'mariadb', host: '127.0.0.1', port: 1, adminUser: 'root' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('server-unreachable');
  });

  it('a customer cannot act for another tenant by passing its id', async () => {
    const res = await f.t.as('customer').post(`${API}/databases`, { name: `${f.prefixes.otherCustomer}_x`, engine: 'postgresql', tenantId: f.t.tenants.otherCustomer });
    expect(res.status).toBe(404);
  });
});

describe('ui', () => {
  it('contributes the Databases panel and serves its module', async () => {
    const ui = await f.t.as('customer').get('/api/v1/ui/contributions');
    const mine = ui.body.find((c: { id: string }) => c.id === 'database');
    expect(mine).toMatchObject({ panels: [{ id: 'databases', path: '/databases' }] });
    expect((await f.t.as('customer').get(mine.ui)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('disable and uninstall keep the provisioned databases', async () => {
    const p = f.prefixes.customer;
    const before = await catalog(p);
    expect(before.pgDatabases.length + before.myDatabases.length).toBeGreaterThan(0);
    expect((await f.t.as('owner').post('/api/v1/plugins/database/disable')).status).toBe(200);
    expect((await f.t.as('customer').get(`${API}/databases`)).status).toBe(404);
    expect(await catalog(p)).toEqual(before);
    expect((await f.t.as('owner').post('/api/v1/plugins/database/enable')).status).toBe(200);
    expect((await f.t.as('customer').get(`${API}/databases`)).body.length).toBeGreaterThan(0);
    expect((await f.t.as('owner').delete('/api/v1/plugins/database?purge=true')).status).toBeLessThan(300);
    expect(await catalog(p)).toEqual(before);
  });
});
