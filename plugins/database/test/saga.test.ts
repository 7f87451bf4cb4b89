import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API, catalog, setupFixture, withMaria, withPg, type Fixture } from './helpers.js';

// The plugin's fault-injection seam (see src/provisioning/fault-injection.ts): on only in this process.
process.env.MPANEL_DATABASE_FAULTS = '1';
const FAULT_INJECTOR = Symbol.for('mpanel.plugin-database.fault-injector');
interface FaultPoint { operation: string; operationId: string; step: number; stepName: string; steps: number }
class SimulatedCrash extends Error {
  readonly simulatedCrash = true;
}
function inject(fn: ((p: FaultPoint) => void) | undefined): void {
  (globalThis as Record<symbol, unknown>)[FAULT_INJECTOR] = fn;
}

let f: Fixture;
beforeAll(async () => {
  f = await setupFixture();
});
afterEach(() => inject(undefined));
afterAll(async () => f?.cleanup());

async function panelRows(name: string): Promise<number> {
  const rows = await f.t.sql<{ n: string }>(
    `select ((select count(*) from plugin_database.provisioned_database where name = $1) + (select count(*) from plugin_database.database_user where name = $1))::text as n`,
    [name],
  );
  return Number(rows[0]!.n);
}

describe.each(['postgresql', 'mariadb'] as const)('%s', (engine) => {
  const tag = engine.slice(0, 2);

  it('leaves nothing behind when a create fails between any two steps', async () => {
    const p = f.prefixes.customer;
    // Learn the plan's length from a run that succeeds.
    // Steps of one transaction (the reservation) have no gap between them; every other gap gets a fault.
    const points: number[] = [];
    inject((pt) => {
      if (pt.operation === 'database.create') points.push(pt.step);
    });
    const ok = await f.t.as('customer').post(`${API}/databases`, { name: `${p}_${tag}probe`, owner: `${p}_${tag}probeu`, engine });
    expect(ok.status, ok.text).toBe(201);
    expect(points.length).toBeGreaterThanOrEqual(6);

    for (const k of points) {
      const db = `${p}_${tag}f${k}`;
      const user = `${p}_${tag}f${k}u`;
      inject((pt) => {
        if (pt.operation === 'database.create' && pt.step === k) throw new Error(`injected fault before step ${k}`);
      });
      const res = await f.t.as('customer').post(`${API}/databases`, { name: db, owner: user, engine });
      expect(res.status, `step ${k}: ${res.text}`).toBe(424);
      expect(res.body.code).toBe('provisioning-failed');
      expect(res.body.detail).toContain(`injected fault before step ${k}`);
      expect(res.body.failedStep).toBeTruthy();
      const c = await catalog(p);
      expect([...c.pgDatabases, ...c.myDatabases], `step ${k}`).not.toContain(db);
      expect([...c.pgRoles, ...c.myUsers], `step ${k}`).not.toContain(user);
      expect(await panelRows(db)).toBe(0);
      expect(await panelRows(user)).toBe(0);
      const op = await f.t.sql<{ status: string }>('select status from plugin_database.operation where id = $1', [res.body.operationId]);
      expect(op[0]!.status).toBe('compensated');
    }
    // And the same name works afterwards: nothing was left holding it.
    inject(undefined);
    const again = await f.t.as('customer').post(`${API}/databases`, { name: `${p}_${tag}f1`, owner: `${p}_${tag}f1u`, engine });
    expect(again.status, again.text).toBe(201);
  });

  it('undoes revokes when a delete fails before the drop, and finishes it after', async () => {
    const p = f.prefixes.customer;
    const created = await f.t.as('customer').post(`${API}/databases`, { name: `${p}_${tag}del`, owner: `${p}_${tag}delu`, engine });
    expect(created.status, created.text).toBe(201);
    const { id } = created.body.database;
    const { user, password } = created.body.owner;
    const connects = async () => {
      try {
        if (engine === 'postgresql') await withPg((c) => c.query('create table if not exists t (x int)'), { user, password, database: `${p}_${tag}del` });
        else await withMaria((c) => c.query('create table if not exists t (x int)'), { user, password, database: `${p}_${tag}del` });
        return true;
      } catch {
        return false;
      }
    };
    expect(await connects()).toBe(true);
    // Plan: 0 mark deleting, 1 revoke owner, 2 drop (pivot), 3 forget.
    inject((pt) => {
      if (pt.operation === 'database.delete' && pt.stepName.startsWith('drop database')) throw new Error('injected before drop');
    });
    const failed = await f.t.as('customer').delete(`${API}/databases/${id}?confirm=${p}_${tag}del`);
    expect(failed.status, failed.text).toBe(424);
    expect((await catalog(p))[engine === 'postgresql' ? 'pgDatabases' : 'myDatabases']).toContain(`${p}_${tag}del`);
    expect(await connects()).toBe(true); // the grant came back
    expect((await f.t.as('customer').get(`${API}/databases/${id}`)).body.status).toBe('ready');

    inject((pt) => {
      if (pt.operation === 'database.delete' && pt.stepName.startsWith('forget')) throw new Error('injected after drop');
    });
    const half = await f.t.as('customer').delete(`${API}/databases/${id}?confirm=${p}_${tag}del`);
    expect(half.status).toBe(424);
    expect(half.body.code).toBe('provisioning-incomplete');
    inject(undefined);
    const recovered = await f.t.as('admin').post(`${API}/operations/recover`, { olderThanSeconds: 0 });
    expect(recovered.status).toBe(200);
    expect(recovered.body.recovered).toContain(half.body.operationId);
    expect((await f.t.as('customer').get(`${API}/databases/${id}`)).status).toBe(404);
    expect((await catalog(p))[engine === 'postgresql' ? 'pgDatabases' : 'myDatabases']).not.toContain(`${p}_${tag}del`);
  });

  it('a crash mid-saga is undone by recovery from the operation log', async () => {
    const p = f.prefixes.customer;
    const db = `${p}_${tag}crash`;
    const user = `${p}_${tag}crashu`;
    let stepsSeen = 0;
    inject((pt) => {
      if (pt.operation !== 'database.create') return;
      stepsSeen = pt.steps;
      // Die right before the grant: database and user exist on the server.
      if (pt.stepName.startsWith('grant')) throw new SimulatedCrash('boom');
    });
    const res = await f.t.as('customer').post(`${API}/databases`, { name: db, owner: user, engine });
    expect(res.status, res.text).toBe(424);
    expect(stepsSeen).toBeGreaterThan(0);
    const mid = await catalog(p);
    expect([...mid.pgDatabases, ...mid.myDatabases]).toContain(db);
    const op = await f.t.sql<{ status: string }>('select status from plugin_database.operation where id = $1', [res.body.operationId]);
    expect(op[0]!.status).toBe('running');
    inject(undefined);
    const recovered = await f.t.as('admin').post(`${API}/operations/recover`, { olderThanSeconds: 0 });
    expect(recovered.body.recovered).toContain(res.body.operationId);
    const after = await catalog(p);
    expect([...after.pgDatabases, ...after.myDatabases]).not.toContain(db);
    expect([...after.pgRoles, ...after.myUsers]).not.toContain(user);
    expect(await panelRows(db)).toBe(0);
  });
});

it('a customer cannot trigger recovery', async () => {
  expect((await f.t.as('customer').post(`${API}/operations/recover`, {})).status).toBe(403);
});
