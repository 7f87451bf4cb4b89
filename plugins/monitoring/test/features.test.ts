import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TestPanel } from '@mpanel/sdk/testing';
import { startTestSmtp, type TestSmtp } from '../../../test/support/smtp.js';
import { API, agentProcess, enrolAgent, patchConfig, startPanel, until, type AgentProcess } from './helpers.js';

let t: TestPanel;
let smtp: TestSmtp;
let agent: AgentProcess;
let agentId: string;
let logFile: string;
let live: Socket | null = null;

beforeAll(async () => {
  smtp = await startTestSmtp();
  t = await startPanel({}, { smtpUrl: smtp.url });
  const { dir, configFile, ...enrolled } = await enrolAgent(t, 'db-1');
  agentId = enrolled.agentId;
  logFile = path.join(dir, 'app.log');
  fs.writeFileSync(logFile, 'before the agent started\n');
  patchConfig(configFile, { commands: { greet: ['echo', 'hello from the agent'], fail: ['false'] }, logs: [{ path: logFile, name: 'app' }], reconnect: { delayMs: 100, maxDelayMs: 500 } });
  agent = agentProcess(dir, configFile);
  agent.start();
  await until('the agent online with samples', async () => {
    const a = await t.as('admin').get(`${API}/agents/${agentId}`);
    const latest = await t.as('admin').get(`${API}/agents/${agentId}/latest`);
    return a.body.status === 'online' && a.body.commands.length === 2 && latest.body.seq >= 2;
  });
});
afterAll(async () => {
  live?.disconnect();
  await agent?.stop();
  await t?.close();
  await smtp?.close();
});

async function liveSocket(client = t.as('admin')): Promise<Socket> {
  const ticket = await client.get(`${API}/live-ticket`);
  expect(ticket.status).toBe(200);
  const s = io(`${t.url}${ticket.body.namespace}`, { auth: { ticket: ticket.body.ticket }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    s.on('connect', () => resolve());
    s.on('connect_error', reject);
  });
  return s;
}

describe('commands', () => {
  it('runs an allowlisted command; output streams live and is kept; audited', async () => {
    live = await liveSocket();
    const seen: any[] = [];
    live.on('command', (e) => seen.push(e));
    expect(await live.emitWithAck('subscribe', { agentId })).toEqual({ ok: true });
    const res = await t.as('admin').post(`${API}/agents/${agentId}/commands`, { name: 'greet' });
    expect(res.status, res.text).toBe(202);
    const done = await until('the command to finish', async () => {
      const c = await t.as('admin').get(`${API}/commands/${res.body.id}`);
      return c.body.status !== 'sent' && c.body.status !== 'running' ? c.body : null;
    });
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'hello from the agent\n' });
    await until('live output', () => seen.some((e) => e.commandId === res.body.id && e.type === 'output' && e.data === 'hello from the agent\n'));
    await until('live finish', () => seen.some((e) => e.commandId === res.body.id && e.type === 'finished' && e.status === 'succeeded'));
    const audit = await t.as('owner').get('/api/v1/audit?action=monitoring.command.run');
    expect(audit.body.items[0].details.command).toBe('greet');
    await until('the finish audit', async () => (await t.as('owner').get('/api/v1/audit?action=monitoring.command.finish')).body.items.some((i: any) => i.target === `monitoring-command:${res.body.id}`));

    const failed = await t.as('admin').post(`${API}/agents/${agentId}/commands`, { name: 'fail' });
    await until('the failing command', async () => (await t.as('admin').get(`${API}/commands/${failed.body.id}`)).body.status === 'failed');
  });

  it('refuses names outside the allowlist, wrong roles and bad input', async () => {
    const r = await t.as('admin').post(`${API}/agents/${agentId}/commands`, { name: 'reboot' });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('command-not-allowed');
    expect((await t.as('admin').post(`${API}/agents/${agentId}/commands`, { name: 'echo hi; rm -rf /' })).status).toBe(400);
    expect((await t.as('reseller').post(`${API}/agents/${agentId}/commands`, { name: 'greet' })).status).toBe(403);
    expect((await t.as('customer').post(`${API}/agents/${agentId}/commands`, { name: 'greet' })).status).toBe(403);
    expect((await t.anonymous().post(`${API}/agents/${agentId}/commands`, { name: 'greet' })).status).toBe(401);
  });
});

describe('metrics', () => {
  it('streams samples live to subscribers that may read the agent', async () => {
    const s = await liveSocket();
    const got = new Promise<any>((resolve) => s.on('sample', resolve));
    expect(await s.emitWithAck('subscribe', { agentId })).toEqual({ ok: true });
    const sample = await got;
    expect(sample.metrics.memory_total_bytes).toBeGreaterThan(0);
    s.disconnect();
    // A forged ticket is refused.
    const bad = io(`${t.url}/p/monitoring/live`, { auth: { ticket: 'forged' }, transports: ['websocket'], reconnection: false });
    expect(await new Promise((r) => bad.on('connect_error', (e) => r(e.message)))).toBe('unauthorized');
    bad.disconnect();
  });

  it('answers range queries at a resolution picked for the range', async () => {
    const raw = await t.as('admin').get(`${API}/agents/${agentId}/series?metrics=cpu_usage_percent,memory_*`);
    expect(raw.status, raw.text).toBe(200);
    expect(raw.body.resolution).toBe('raw');
    const names = raw.body.series.map((s: any) => s.metric);
    expect(names).toContain('cpu_usage_percent');
    expect(names).toContain('memory_used_bytes');
    const pts = raw.body.series.find((s: any) => s.metric === 'memory_total_bytes').points;
    expect(pts.length).toBeGreaterThanOrEqual(2);
    expect(pts.map((p: number[]) => p[0])).toEqual([...pts.map((p: number[]) => p[0])].sort((a, b) => a - b));

    // Rollups: the maintenance task now (a job runs it every minute).
    await until('samples older than the rollup margin', async () => (await t.sql("select 1 from plugin_monitoring.sample where agent_id = $1 and received_at < now() - interval '5 seconds' limit 1", [agentId])).length > 0, 30_000, 250);
    const roll = await t.as('owner').post(`${API}/maintenance`, { task: 'rollup' });
    expect(roll.status, roll.text).toBe(200);
    expect(roll.body.result.minutes).toBeGreaterThan(0);
    const from = new Date(Date.now() - 2 * 86400_000).toISOString();
    const minute = await t.as('admin').get(`${API}/agents/${agentId}/series?metrics=memory_total_bytes&from=${from}`);
    expect(minute.body.resolution).toBe('1m');
    const m = minute.body.series[0].points[0];
    expect(m[1]).toBe(pts[0][1]); // total memory does not move: avg = the raw value
    const hourFrom = new Date(Date.now() - 30 * 86400_000).toISOString();
    const hour = await t.as('admin').get(`${API}/agents/${agentId}/series?metrics=memory_total_bytes&from=${hourFrom}`);
    expect(hour.body.resolution).toBe('1h');
    expect(hour.body.series[0].points.length).toBeGreaterThan(0);
    expect((await t.as('admin').get(`${API}/agents/${agentId}/series?metrics=x&from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z`)).status).toBe(400);
    expect((await t.as('admin').get(`${API}/agents/${agentId}/series?metrics=x&from=yesterday`)).status).toBe(400);
    expect((await t.as('otherCustomer').get(`${API}/agents/${agentId}/series?metrics=x`)).status).toBe(403);
    expect((await t.as('reseller').get(`${API}/agents/${agentId}/series?metrics=x`)).status).toBe(404);
  });

  it('exposes the latest readings in the Prometheus text format', async () => {
    const res = await t.as('admin').get(`${API}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(res.text).toContain('# TYPE mpanel_agent_up gauge');
    expect(res.text).toMatch(new RegExp(`mpanel_agent_up\\{agent_id="${agentId}",agent="db-1"\\} 1`));
    expect(res.text).toMatch(new RegExp(`mpanel_agent_memory_total_bytes\\{agent_id="${agentId}",agent="db-1"\\} \\d+ \\d+`));
    expect(res.text).toMatch(/mpanel_agent_filesystem_size_bytes\{agent_id="[^"]+",agent="db-1",mount="\/"\} \d+/);
    expect((await t.as('customer').get(`${API}/metrics`)).status).toBe(403);
    const reseller = await t.as('reseller').get(`${API}/metrics`);
    expect(reseller.status).toBe(200);
    expect(reseller.text).not.toContain(agentId);
  });

  it('ships log lines, across a rotation', async () => {
    fs.appendFileSync(logFile, 'line one\nline two\n');
    await until('the first lines', async () => (await t.as('admin').get(`${API}/agents/${agentId}/logs?file=app`)).body.items.length >= 2);
    fs.appendFileSync(logFile, 'last line before rotation\n');
    fs.renameSync(logFile, `${logFile}.1`);
    fs.writeFileSync(logFile, 'first line after rotation\n');
    const lines = await until('lines after the rotation', async () => {
      const items = (await t.as('admin').get(`${API}/agents/${agentId}/logs?file=app`)).body.items.map((i: any) => i.line).reverse();
      return items.includes('first line after rotation') ? items : null;
    });
    expect(lines).toEqual(['line one', 'line two', 'last line before rotation', 'first line after rotation']);
  });

  it('sets the interval from the panel and renames the agent', async () => {
    const r = await t.as('admin').patch(`${API}/agents/${agentId}`, { name: 'db-primary', intervalMs: 150 });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ name: 'db-primary', intervalMs: 150 });
    await until('the agent to use the new interval', () => agent.stderr.includes('collection interval is now 150 ms'));
    expect((await t.as('admin').patch(`${API}/agents/${agentId}`, { intervalMs: 5 })).status).toBe(400);
    expect((await t.as('auditor').patch(`${API}/agents/${agentId}`, { name: 'x' })).status).toBe(403);
  });
});

describe('alerts', () => {
  it('fires and resolves: history, typed events and mail', async () => {
    const rule = await t.as('admin').post(`${API}/alert-rules`, {
      name: 'Memory in use', metric: 'memory_total_bytes', comparison: '>', threshold: 1, durationSeconds: 0, severity: 'critical', agentId, notify: ['ops@example.test'],
    });
    expect(rule.status, rule.text).toBe(201);
    const firingMail = await smtp.waitFor('ops@example.test', (m) => m.subject.includes('FIRING'), 20_000);
    expect(firingMail.subject).toContain('Memory in use');
    const firing = await until('the firing alert', async () => (await t.as('admin').get(`${API}/alerts?state=firing`)).body.items.find((a: any) => a.ruleId === rule.body.id));
    expect(firing.severity).toBe('critical');
    expect((await t.as('admin').get(`${API}/fleet`)).body.firing.critical).toBe(1);
    const [ev] = await t.sql<{ payload: any; permission: string }>("select payload, permission from outbox_event where type = 'monitoring.alert.firing' order by id desc limit 1");
    expect(ev!.payload).toMatchObject({ ruleId: rule.body.id, agentId, metric: 'memory_total_bytes', severity: 'critical' });
    expect(ev!.permission).toBe('monitoring.read');

    expect((await t.as('admin').patch(`${API}/alert-rules/${rule.body.id}`, { threshold: 1e18 })).status).toBe(200);
    await smtp.waitFor('ops@example.test', (m) => m.subject.includes('RESOLVED'), 20_000);
    const resolved = await until('the resolved alert', async () => (await t.as('admin').get(`${API}/alerts?state=resolved`)).body.items.find((a: any) => a.id === firing.id));
    expect(resolved.resolvedAt).not.toBeNull();
    const [rev] = await t.sql<{ payload: any }>("select payload from outbox_event where type = 'monitoring.alert.resolved' order by id desc limit 1");
    expect(rev!.payload.alertId).toBe(firing.id);
  });

  it('waits for the duration before firing, and validates rules', async () => {
    const rule = await t.as('admin').post(`${API}/alert-rules`, { name: 'Slow', metric: 'memory_total_bytes', comparison: '>', threshold: 1, durationSeconds: 3600, severity: 'warning' });
    expect(rule.status).toBe(201);
    await until('a pending alert', async () => (await t.as('admin').get(`${API}/alerts?state=pending`)).body.items.some((a: any) => a.ruleId === rule.body.id));
    expect((await t.as('admin').get(`${API}/alerts?state=firing`)).body.items.some((a: any) => a.ruleId === rule.body.id)).toBe(false);
    expect((await t.as('admin').post(`${API}/alert-rules`, { name: 'x', metric: 'm', comparison: '!=', threshold: 1, severity: 'warning' })).status).toBe(400);
    expect((await t.as('admin').post(`${API}/alert-rules`, { name: 'x', metric: 'm', comparison: '>', threshold: 1, severity: 'warning', notify: ['not-mail'] })).status).toBe(400);
    expect((await t.as('customer').post(`${API}/alert-rules`, { name: 'x', metric: 'm', comparison: '>', threshold: 1, severity: 'warning' })).status).toBe(403);
    expect((await t.as('reseller').post(`${API}/alert-rules`, { name: 'x', metric: 'm', comparison: '>', threshold: 1, severity: 'warning', agentId })).status).toBe(404);
    expect((await t.as('admin').delete(`${API}/alert-rules/${rule.body.id}`)).status).toBe(204);
  });
});
