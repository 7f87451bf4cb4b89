import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, catalog, setupFixture, type Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture();
});
afterAll(async () => f?.cleanup());

describe('quotas', () => {
  it('parallel creates stop exactly at the quota', async () => {
    const set = await f.t.as('owner').patch(`/api/v1/tenants/${f.t.tenants.customer}`, { quotas: { 'database.databases': 3 } });
    expect(set.status, set.text).toBe(200);
    const p = f.prefixes.customer;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.t.as('customer').post(`${API}/databases`, { name: `${p}_q${i}`, engine: i % 2 ? 'mariadb' : 'postgresql' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('quota-exceeded');
    const c = await catalog(p);
    expect(c.pgDatabases.length + c.myDatabases.length).toBe(3);
    const usage = await f.t.as('customer').get(`${API}/tenants/${f.t.tenants.customer}/usage`);
    expect(usage.body).toMatchObject({ prefix: p, limits: { databases: 3 }, usage: { databases: 3 } });
  });

  it('an ancestor\'s limit holds over its whole subtree', async () => {
    // The reseller may have 4 users in total; the customers under it share them.
    const set = await f.t.as('owner').patch(`/api/v1/tenants/${f.t.tenants.reseller}`, { quotas: { 'database.users': 4 } });
    expect(set.status, set.text).toBe(200);
    const a = f.prefixes.customer;
    const b = f.prefixes.otherCustomer;
    const results = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => f.t.as('customer').post(`${API}/users`, { name: `${a}_u${i}`, engine: 'postgresql' })),
      ...Array.from({ length: 4 }, (_, i) => f.t.as('otherCustomer').post(`${API}/users`, { name: `${b}_u${i}`, engine: 'mariadb' })),
    ]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(4);
    expect(results.filter((r) => r.status === 409)).toHaveLength(4);
    const usage = await f.t.as('customer').get(`${API}/tenants/${f.t.tenants.customer}/usage`);
    expect(usage.body.limits.users).toBe(4);
  });

  it('an Idempotency-Key makes a retried create return the same answer and create nothing new', async () => {
    // The previous test used up the reseller's users: give the subtree room again.
    expect((await f.t.as('owner').patch(`/api/v1/tenants/${f.t.tenants.reseller}`, { quotas: { 'database.users': 100 } })).status).toBe(200);
    const p = f.prefixes.otherCustomer;
    const body = { name: `${p}_idem`, owner: `${p}_idemu`, engine: 'postgresql' };
    const first = await f.t.as('otherCustomer').post(`${API}/databases`, body, { 'idempotency-key': 'key-1' });
    expect(first.status, first.text).toBe(201);
    const again = await f.t.as('otherCustomer').post(`${API}/databases`, body, { 'idempotency-key': 'key-1' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const other = await f.t.as('otherCustomer').post(`${API}/databases`, { ...body, name: `${p}_idem2` }, { 'idempotency-key': 'key-1' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency-key-reused');
    const rows = await f.t.sql<{ n: string }>(`select count(*)::text as n from plugin_database.provisioned_database where name = $1`, [`${p}_idem`]);
    expect(rows[0]!.n).toBe('1');
    // Concurrent retries with one key: one operation, same answer.
    const body3 = { name: `${p}_idem3`, engine: 'mariadb' };
    const burst = await Promise.all(Array.from({ length: 4 }, () => f.t.as('otherCustomer').post(`${API}/databases`, body3, { 'idempotency-key': 'key-3' })));
    const ok = burst.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of burst) expect([201, 409]).toContain(r.status);
    for (const r of ok) expect(r.body.database.id).toBe(ok[0]!.body.database.id);
  });
});
