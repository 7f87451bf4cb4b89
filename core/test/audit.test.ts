import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { buildWorld, type World } from './helpers/world.js';
import { sql } from './helpers/db.js';
import type { TestClient } from './helpers/client.js';
import { GENESIS_HASH, canonicalJson, findBreak, hashEntry, type AuditRecord } from '../src/audit/chain.js';
import { CSV_COLUMNS } from '../src/audit/routes.js';

type Entry = AuditRecord & { prevHash: string; hash: string };

/** Every entry visible to `client` matching `query`, walking the cursor pages. */
async function allEntries(client: TestClient, query = '', limit = 500): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const sep = query ? '&' : '';
    const res: { status: number; text: string; body: any } = await client.get(`/api/v1/audit?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status, res.text).toBe(200);
    out.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('pagination did not end');
}

/** RFC 4180 parser (quoted fields, doubled quotes, newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      cell += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(cell); cell = ''; i++; continue; }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = ''; i++; continue;
    }
    cell += c; i++;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

function record(seq: number, prevHash: string, extra: Partial<AuditRecord> = {}): Entry {
  const r: AuditRecord = {
    seq, at: new Date(Date.UTC(2024, 0, 1, 0, 0, seq)).toISOString(), actorType: 'user', actorId: 'u1', actorLabel: 'a@b.c',
    tenantId: null, tenantPath: null, action: 'x.y', target: null, outcome: 'success', ip: '127.0.0.1', userAgent: 'ua',
    requestId: `r${seq}`, details: { n: seq, nested: { b: 1, a: [1, { d: 2, c: 3 }] } }, ...extra,
  };
  return { ...r, prevHash, hash: hashEntry(prevHash, r) };
}

function chain(n: number): Entry[] {
  const out: Entry[] = [];
  let prev = GENESIS_HASH;
  for (let s = 1; s <= n; s++) {
    const e = record(s, prev);
    out.push(e);
    prev = e.hash;
  }
  return out;
}

describe('audit/chain (unit)', () => {
  it('canonicalJson sorts keys at every level and is independent of insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    expect(canonicalJson({ a: undefined, b: 'q"\n' })).toBe('{"b":"q\\"\\n"}');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('s')).toBe('"s"');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson({ 'ü': 'é', '\u2028': 1 })).toBe(JSON.stringify(JSON.parse(canonicalJson({ 'ü': 'é', '\u2028': 1 }))));
  });

  it('canonicalJson agrees with a JSON round trip (what the database gives back)', () => {
    const value = { z: [1, 2.5, -0, 1e21, 'a'], a: { when: '2024-01-01T00:00:00.000Z', t: true, f: false } };
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it('hashEntry is a sha256 hex digest that depends on every field and on the previous hash', () => {
    const base = record(1, GENESIS_HASH);
    const { prevHash, hash, ...r } = base;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEntry(prevHash, r)).toBe(hash);
    expect(hashEntry('1'.repeat(64), r)).not.toBe(hash);
    for (const key of Object.keys(r) as Array<keyof AuditRecord>) {
      const changed = { ...r, [key]: key === 'seq' ? 99 : key === 'details' ? { n: 2 } : 'changed' } as AuditRecord;
      expect(hashEntry(prevHash, changed), key).not.toBe(hash);
    }
    // Field order does not matter.
    const reversed = Object.fromEntries(Object.entries(r).reverse()) as unknown as AuditRecord;
    expect(hashEntry(prevHash, reversed)).toBe(hash);
  });

  it('findBreak accepts an intact chain and can continue in pages', () => {
    const c = chain(10);
    const all = findBreak(c);
    expect(all.broken).toBeUndefined();
    expect(all.checked).toBe(10);
    expect(all.last).toEqual({ prevHash: c[9]!.hash, prevSeq: 10 });
    const first = findBreak(c.slice(0, 4));
    const second = findBreak(c.slice(4), first.last);
    expect(second.broken).toBeUndefined();
    expect(first.checked + second.checked).toBe(10);
    expect(findBreak([]).checked).toBe(0);
  });

  it('findBreak reports an edited entry as hash-mismatch at its seq', () => {
    const c = chain(6);
    c[2] = { ...c[2]!, action: 'tampered' };
    const r = findBreak(c);
    expect(r.broken).toMatchObject({ seq: 3, reason: 'hash-mismatch' });
    expect(r.checked).toBe(2);
    expect(r.last.prevSeq).toBe(2);
  });

  it('findBreak reports a re-hashed edit at the next entry (prev-hash-mismatch)', () => {
    const c = chain(6);
    const { prevHash: p, hash: _h, ...rec } = c[2]!;
    const forged = { ...rec, action: 'tampered' };
    c[2] = { ...forged, prevHash: p, hash: hashEntry(p, forged) };
    expect(findBreak(c).broken).toMatchObject({ seq: 4, reason: 'prev-hash-mismatch', expected: c[2]!.hash, actual: c[3]!.prevHash });
  });

  it('findBreak reports a deleted entry as a sequence gap, and a chain not starting at 1', () => {
    const c = chain(6);
    c.splice(3, 1);
    expect(findBreak(c).broken).toMatchObject({ seq: 5, reason: 'sequence-gap', expected: '4', actual: '5' });
    expect(findBreak(chain(3).slice(1)).broken).toMatchObject({ seq: 2, reason: 'sequence-gap' });
  });
});

describe('audit trail over HTTP', () => {
  let tp: TestPanel;
  let world: World;
  let owner: TestClient;

  beforeAll(async () => {
    tp = await startTestPanel();
    world = await buildWorld(tp);
    owner = world.users.owner.client;
  });
  afterAll(async () => tp?.close());

  it('a tenant creation writes one entry with actor, tenant, action, target, outcome, ip, user agent and request id', async () => {
    const res = await owner.post('/api/v1/tenants', { parentId: world.resellerId, kind: 'customer', name: 'Audited Co' }, { 'user-agent': 'audit-test/1.0' });
    expect(res.status).toBe(201);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    const items = await allEntries(owner, `action=tenant.create`);
    const mine = items.filter((e) => e.requestId === requestId);
    expect(mine).toHaveLength(1);
    const e = mine[0]!;
    expect(e).toMatchObject({
      actorType: 'user',
      actorId: world.users.owner.id,
      actorLabel: world.users.owner.email,
      tenantId: res.body.id,
      tenantPath: res.body.path,
      action: 'tenant.create',
      target: `tenant:${res.body.id}`,
      outcome: 'success',
      userAgent: 'audit-test/1.0',
    });
    expect(e.ip).toMatch(/127\.0\.0\.1$/);
    expect(e.details).toMatchObject({ name: 'Audited Co', kind: 'customer', parentId: world.resellerId });
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a client-supplied x-request-id is echoed and recorded; user creation is audited too', async () => {
    const res = await owner.post('/api/v1/users', { tenantId: world.customerAId, email: 'audited@world.test', name: 'Audited', password: 'another-password-42' }, { 'x-request-id': 'req-audit-user-1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('req-audit-user-1');
    const items = await allEntries(owner, 'action=user.create');
    const e = items.find((i) => i.requestId === 'req-audit-user-1');
    expect(e).toMatchObject({ actorId: world.users.owner.id, tenantId: world.customerAId, target: `user:${res.body.id}`, outcome: 'success' });
  });

  it('a failed state change is audited as failure, a missing permission as denied', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const fail = await owner.post('/api/v1/tenants', { parentId: missing, kind: 'customer', name: 'Nope' });
    expect(fail.status).toBe(404);
    const failures = await allEntries(owner, 'outcome=failure');
    const f = failures.find((e) => e.requestId === fail.headers.get('x-request-id'));
    expect(f).toMatchObject({ action: 'tenant.create', outcome: 'failure', actorId: world.users.owner.id });
    expect(f!.details).toMatchObject({ error: 'not-found' });

    const denied = await world.users.customerA.client.post('/api/v1/tenants', { parentId: world.customerAId, kind: 'customer', name: 'X' });
    expect(denied.status).toBe(403);
    const d = (await allEntries(owner, 'outcome=denied')).find((e) => e.requestId === denied.headers.get('x-request-id'));
    expect(d).toMatchObject({ action: 'permission.denied', actorId: world.users.customerA.id, tenantId: world.customerAId, outcome: 'denied' });
    // No tenant was created by either request.
    const names = (await owner.get('/api/v1/tenants?limit=100')).body.items.map((t: { name: string }) => t.name);
    expect(names).not.toContain('Nope');
    expect(names).not.toContain('X');
  });

  it('text PostgreSQL cannot store (lone surrogates, NUL) is refused up front with 400, and the chain stays intact', async () => {
    const before = (await allEntries(owner)).length;
    const requests = [
      [owner.post('/api/v1/tenants', { parentId: world.platformId, kind: 'customer', name: 'lone \ud800 surrogate' }), '/body/name'],
      [owner.post('/api/v1/tenants', { parentId: world.platformId, kind: 'customer', name: 'nul \u0000 byte' }), '/body/name'],
      [owner.patch(`/api/v1/tenants/${world.customerCId}`, { branding: { productName: 'odd \udc00' } }), '/body/branding/productName'],
    ] as const;
    for (const [pending, pointer] of requests) {
      const res = await pending;
      expect(res.status, res.text).toBe(400);
      expect(res.body.code).toBe('validation-failed');
      expect(res.body.errors[0].pointer).toBe(pointer);
    }
    // Refused before any handler ran: nothing to audit, nothing written.
    expect((await allEntries(owner)).length).toBe(before);
    expect((await owner.get('/api/v1/audit/verify')).body.ok).toBe(true);
  });

  it('filters: actorId, action, actionPrefix, outcome', async () => {
    const all = await allEntries(owner);
    expect(all.length).toBeGreaterThan(10);

    const byActor = await allEntries(owner, `actorId=${world.users.owner.id}`);
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((e) => e.actorId === world.users.owner.id)).toBe(true);
    expect(byActor.length).toBe(all.filter((e) => e.actorId === world.users.owner.id).length);

    const byAction = await allEntries(owner, 'action=tenant.create');
    expect(byAction.length).toBe(all.filter((e) => e.action === 'tenant.create').length);
    expect(byAction.every((e) => e.action === 'tenant.create')).toBe(true);

    const byPrefix = await allEntries(owner, 'actionPrefix=auth.');
    expect(byPrefix.length).toBeGreaterThan(0);
    expect(byPrefix.length).toBe(all.filter((e) => e.action.startsWith('auth.')).length);

    // LIKE wildcards in the prefix are literal.
    expect(await allEntries(owner, 'actionPrefix=%25')).toEqual([]);
    expect(await allEntries(owner, 'actionPrefix=auth_')).toEqual([]);

    for (const outcome of ['success', 'failure', 'denied']) {
      const r = await allEntries(owner, `outcome=${outcome}`);
      expect(r.length, outcome).toBe(all.filter((e) => e.outcome === outcome).length);
      expect(r.length, outcome).toBeGreaterThan(0);
    }
    const combined = await allEntries(owner, `actorId=${world.users.owner.id}&action=tenant.create&outcome=success`);
    expect(combined.length).toBe(all.filter((e) => e.actorId === world.users.owner.id && e.action === 'tenant.create' && e.outcome === 'success').length);
  });

  it('filter tenantId covers the whole subtree and nothing else', async () => {
    const all = await allEntries(owner);
    const reseller = (await owner.get(`/api/v1/tenants/${world.resellerId}`)).body;
    const sub = await allEntries(owner, `tenantId=${world.resellerId}`);
    expect(sub.length).toBe(all.filter((e) => e.tenantPath?.startsWith(reseller.path)).length);
    expect(sub.every((e) => e.tenantPath!.startsWith(reseller.path))).toBe(true);
    expect(sub.some((e) => e.tenantId === world.customerAId)).toBe(true);
    expect(sub.some((e) => e.tenantId === world.customerCId)).toBe(false);
    const leaf = await allEntries(owner, `tenantId=${world.customerAId}`);
    expect(leaf.length).toBeGreaterThan(0);
    expect(leaf.every((e) => e.tenantId === world.customerAId)).toBe(true);
    const bad = await owner.get('/api/v1/audit?tenantId=not-a-uuid');
    expect(bad.status).toBe(400);
  });

  it('filters from/to split the trail at an instant without overlap', async () => {
    const all = await allEntries(owner);
    const times = [...new Set(all.map((e) => e.at))].sort();
    expect(times.length).toBeGreaterThan(3);
    const pivot = times[Math.floor(times.length / 2)]!;
    const after = await allEntries(owner, `from=${encodeURIComponent(pivot)}`);
    const before = await allEntries(owner, `to=${encodeURIComponent(pivot)}`);
    expect(after.every((e) => e.at >= pivot)).toBe(true);
    expect(before.every((e) => e.at < pivot)).toBe(true);
    expect(after.length + before.length).toBe(all.length);
    expect(after.length).toBe(all.filter((e) => e.at >= pivot).length);
    const window = await allEntries(owner, `from=${encodeURIComponent(times[1]!)}&to=${encodeURIComponent(pivot)}`);
    expect(window.length).toBe(all.filter((e) => e.at >= times[1]! && e.at < pivot).length);
    expect((await owner.get('/api/v1/audit?from=yesterday')).status).toBe(400);
  });

  it('cursor pagination walks every entry exactly once, newest first', async () => {
    const reference = (await owner.get('/api/v1/audit?limit=500')).body;
    expect(reference.nextCursor).toBeNull();
    const seqs: number[] = reference.items.map((e: Entry) => e.seq);
    const paged = await allEntries(owner, '', 7);
    expect(paged.map((e) => e.seq)).toEqual(seqs);
    expect(new Set(paged.map((e) => e.seq)).size).toBe(paged.length);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeLessThan(seqs[i - 1]!);
    // Without filters the seqs are contiguous from the newest down to 1.
    expect(seqs[seqs.length - 1]).toBe(1);
    expect(seqs[0]).toBe(seqs.length);
    // Filtered pagination too.
    const filteredRef = await allEntries(owner, 'actionPrefix=auth.', 500);
    const filteredPaged = await allEntries(owner, 'actionPrefix=auth.', 2);
    expect(filteredPaged.map((e) => e.seq)).toEqual(filteredRef.map((e) => e.seq));
    const badCursor = await owner.get('/api/v1/audit?cursor=abc');
    expect(badCursor.status).toBe(400);
    expect(badCursor.headers.get('content-type')).toContain('application/problem+json');
  });

  it('tenant scoping: a reseller sees only its subtree, a customer gets 403, the auditor sees everything', async () => {
    const all = await allEntries(owner);
    const reseller = (await owner.get(`/api/v1/tenants/${world.resellerId}`)).body;
    const seen = await allEntries(world.users.reseller.client);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.tenantPath !== null && e.tenantPath.startsWith(reseller.path))).toBe(true);
    expect(seen.length).toBe(all.filter((e) => e.tenantPath?.startsWith(reseller.path)).length);
    expect(seen.some((e) => e.tenantId === world.customerAId)).toBe(true);
    // A tenant outside its subtree can't be named.
    const outside = await world.users.reseller.client.get(`/api/v1/audit?tenantId=${world.customerCId}`);
    expect(outside.status).toBe(404);
    const outsideExport = await world.users.reseller.client.get(`/api/v1/audit/export?format=json`);
    expect(outsideExport.status).toBe(200);
    const exported = JSON.parse(outsideExport.text) as Entry[];
    expect(exported.every((e) => e.tenantPath?.startsWith(reseller.path))).toBe(true);
    // The reseller cannot verify (audit.verify is not in its role).
    expect((await world.users.reseller.client.get('/api/v1/audit/verify')).status).toBe(403);

    for (const c of [world.users.customerA.client, world.users.customerB.client]) {
      const r = await c.get('/api/v1/audit');
      expect(r.status).toBe(403);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect((await c.get('/api/v1/audit/export')).status).toBe(403);
    }

    const auditorSeen = await allEntries(world.users.auditor.client);
    // The customers' 403s above were audited (as denied) in between; compare with a fresh owner view.
    const allNow = await allEntries(owner);
    expect(auditorSeen.map((e) => e.seq)).toEqual(allNow.map((e) => e.seq));
    expect(auditorSeen.some((e) => e.tenantId === world.customerCId)).toBe(true);
    const v = await world.users.auditor.client.get('/api/v1/audit/verify');
    expect(v.status).toBe(200);
    expect(v.body.ok).toBe(true);
  });

  it('CSV export: header row, quoting, formula injection neutralised', async () => {
    const created = await owner.post('/api/v1/tenants', { parentId: world.platformId, kind: 'customer', name: '=cmd()' }, { 'user-agent': '=HYPERLINK("http://evil")' });
    expect(created.status).toBe(201);
    const quoted = await owner.post('/api/v1/tenants', { parentId: world.platformId, kind: 'customer', name: 'Say "hi", then\nleave' }, { 'user-agent': '+SUM(1,2)' });
    expect(quoted.status).toBe(201);
    for (const ua of ['-1+1', '@SUM(A1)']) {
      expect((await owner.patch(`/api/v1/tenants/${world.customerCId}`, { name: `C ${ua}` }, { 'user-agent': ua })).status).toBe(200);
    }

    const res = await owner.get('/api/v1/audit/export?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const rows = parseCsv(res.text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const body = rows.slice(1);
    const all = await allEntries(owner);
    expect(body).toHaveLength(all.length);
    for (const r of body) expect(r).toHaveLength(CSV_COLUMNS.length);
    // Every data cell is quoted.
    const firstDataLine = res.text.split('\n')[1]!;
    expect(firstDataLine.startsWith('"')).toBe(true);
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);

    // No cell can start a formula.
    for (const r of body) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

    const row = body.find((r) => r[col('requestId')] === created.headers.get('x-request-id'))!;
    expect(row).toBeDefined();
    expect(row[col('userAgent')]).toBe(`'=HYPERLINK("http://evil")`);
    expect(JSON.parse(row[col('details')]!)).toMatchObject({ name: '=cmd()' });
    expect(row[col('target')]).toBe(`tenant:${created.body.id}`);
    expect(row[col('seq')]).toMatch(/^\d+$/);

    const row2 = body.find((r) => r[col('requestId')] === quoted.headers.get('x-request-id'))!;
    expect(row2[col('userAgent')]).toBe(`'+SUM(1,2)`);
    expect(JSON.parse(row2[col('details')]!)).toMatchObject({ name: 'Say "hi", then\nleave' });
    const uas = body.map((r) => r[col('userAgent')]);
    expect(uas).toContain(`'-1+1`);
    expect(uas).toContain(`'@SUM(A1)`);

    // Filters apply to the export as well.
    const filtered = parseCsv((await owner.get('/api/v1/audit/export?format=csv&action=tenant.update')).text).slice(1);
    expect(filtered.length).toBe(all.filter((e) => e.action === 'tenant.update').length);
    expect(filtered.every((r) => r[col('action')] === 'tenant.update')).toBe(true);
  });

  it('JSON export parses and matches the query API; max limits it', async () => {
    const res = await owner.get('/api/v1/audit/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const parsed = (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as Entry[];
    const all = await allEntries(owner);
    expect(parsed).toEqual(all);
    const limited = await owner.get('/api/v1/audit/export?format=json&max=3');
    expect(JSON.parse(limited.text)).toEqual(all.slice(0, 3));
    const empty = await owner.get('/api/v1/audit/export?format=json&action=no.such');
    expect(JSON.parse(empty.text)).toEqual([]);
    const emptyCsv = await owner.get('/api/v1/audit/export?format=csv&action=no.such');
    expect(parseCsv(emptyCsv.text)).toEqual([[...CSV_COLUMNS]]);
  });

  it('GET /audit/verify is ok on a clean chain and covers every entry', async () => {
    const v = await owner.get('/api/v1/audit/verify');
    expect(v.status).toBe(200);
    const [{ n, max }] = await sql<{ n: string; max: string }>(tp.db!.url, 'select count(*) as n, max(seq) as max from audit_entry');
    expect(v.body).toMatchObject({ ok: true, checked: Number(n), lastSeq: Number(max) });
    expect(v.body.firstBroken).toBeUndefined();
  });

  it('the database refuses UPDATE and DELETE on audit_entry', async () => {
    await expect(sql(tp.db!.url, `update audit_entry set action = 'x' where seq = 1`)).rejects.toThrow(/append-only/);
    await expect(sql(tp.db!.url, 'delete from audit_entry where seq = 1')).rejects.toThrow(/append-only/);
    const [row] = await sql<{ action: string }>(tp.db!.url, 'select action from audit_entry where seq = 1');
    expect(row!.action).not.toBe('x');
  });
});

describe('audit tampering and concurrency', () => {
  let tp: TestPanel;
  let owner: TestClient;
  let platformId: string;

  const superSql = (text: string) => sql(tp.db!.url, text);

  beforeAll(async () => {
    tp = await startTestPanel();
    owner = await tp.owner();
    platformId = (await owner.get('/api/v1/auth/me')).body.tenant.id;
  });
  afterAll(async () => tp?.close());

  it('20 parallel state changes keep one unforked chain with contiguous seqs', async () => {
    const before = Number((await superSql('select count(*) as n from audit_entry'))[0]!.n);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => owner.post('/api/v1/tenants', { parentId: platformId, kind: 'customer', name: `Parallel ${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const rows = await superSql('select seq, prev_hash, hash from audit_entry order by seq');
    expect(rows.length).toBe(before + 20);
    rows.forEach((r, i) => {
      expect(Number(r.seq)).toBe(i + 1);
      if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]!.hash);
    });
    // No two entries share a predecessor (a fork).
    expect(new Set(rows.map((r) => r.prev_hash)).size).toBe(rows.length);
    const v = await owner.get('/api/v1/audit/verify');
    expect(v.body).toMatchObject({ ok: true, checked: rows.length, lastSeq: rows.length });
  });

  it('editing one row in SQL is detected at that row', async () => {
    const [orig] = await superSql('select action from audit_entry where seq = 3');
    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await superSql(`update audit_entry set action = 'x' where seq = 3`);
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    const v = await owner.get('/api/v1/audit/verify');
    expect(v.status).toBe(200);
    expect(v.body.ok).toBe(false);
    expect(v.body.firstBroken).toMatchObject({ seq: 3, reason: 'hash-mismatch' });
    expect(v.body.checked).toBe(2);
    expect(v.body.lastSeq).toBe(2);

    // Editing details (jsonb) is detected too; restoring makes the chain whole again.
    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await sql(tp.db!.url, 'update audit_entry set action = $1 where seq = 3', [orig!.action]);
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    expect((await owner.get('/api/v1/audit/verify')).body.ok).toBe(true);

    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await superSql(`update audit_entry set details = details || '{"evil":true}'::jsonb where seq = 5`);
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    expect((await owner.get('/api/v1/audit/verify')).body.firstBroken).toMatchObject({ seq: 5, reason: 'hash-mismatch' });
    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await superSql(`update audit_entry set details = details - 'evil' where seq = 5`);
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    expect((await owner.get('/api/v1/audit/verify')).body.ok).toBe(true);
  });

  it('truncating the newest entries is caught by an anchor recorded earlier', async () => {
    const anchor = (await owner.get('/api/v1/audit/verify')).body as { lastSeq: number; lastHash: string; ok: boolean };
    expect(anchor.ok).toBe(true);
    expect(anchor.lastHash).toMatch(/^[0-9a-f]{64}$/);
    const q = `anchorSeq=${anchor.lastSeq}&anchorHash=${anchor.lastHash}`;
    expect((await owner.get(`/api/v1/audit/verify?${q}`)).body.ok).toBe(true);
    expect((await owner.get(`/api/v1/audit/verify?anchorSeq=${anchor.lastSeq}`)).status).toBe(400);
    // Cut off the newest entries (the verify calls above were not audited, so the anchor is the newest).
    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await superSql(`delete from audit_entry where seq >= ${anchor.lastSeq - 1}`);
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    // Without the anchor the shorter chain still looks whole …
    expect((await owner.get('/api/v1/audit/verify')).body.ok).toBe(true);
    // … with it, the truncation shows.
    const v = await owner.get(`/api/v1/audit/verify?${q}`);
    expect(v.body.ok).toBe(false);
    expect(v.body.firstBroken).toMatchObject({ seq: anchor.lastSeq, reason: 'anchor-mismatch' });
  });

  it('deleting a row is detected as a sequence gap', async () => {
    await superSql('alter table audit_entry disable trigger audit_entry_no_change');
    await superSql('delete from audit_entry where seq = 6');
    await superSql('alter table audit_entry enable trigger audit_entry_no_change');
    const v = await owner.get('/api/v1/audit/verify');
    expect(v.body.ok).toBe(false);
    expect(v.body.firstBroken).toMatchObject({ seq: 7, reason: 'sequence-gap', expected: '6', actual: '7' });
  });
});
