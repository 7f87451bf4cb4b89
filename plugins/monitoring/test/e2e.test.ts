// The monitoring UI module in a real browser (Debian's Chromium driven by
// playwright-core) against the built web shell, with a REAL agent process
// (agent/dist/cli.cjs) enrolled and reporting every second: the owner logs in,
// sees the fleet-health widget, opens Monitoring from the menu, sees the agent
// online, watches its charts update live, runs an allowlisted command and
// reads its output live, creates an alert rule that fires and sees it in the
// list, the history and the widget.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureUiBuilt, launch, step as e2eStep } from '../../../test/e2e/browser.js';
import type { TestPanel } from '@mpanel/sdk/testing';
import { API, agentDir, agentProcess, patchConfig, runCli, startPanel, type AgentProcess } from './helpers.js';

const AGENT_NAME = 'e2e-web-1';
/** Bounded waits (vitest's expect.poll gives up after 1 s by default). */
const WAIT = { timeout: 15_000 };

describe('monitoring UI in Chromium with a real agent', () => {
  let t: TestPanel;
  let agent: AgentProcess;
  let agentId: string;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;

  beforeAll(async () => {
    t = await startPanel({ defaultIntervalMs: 1000, alertEvaluationMs: 300 }, { uiDir: ensureUiBuilt() });

    // Enrol the real agent CLI with a token the owner creates, then run it.
    const tok = await t.as('owner').post(`${API}/enrollment-tokens`, { label: AGENT_NAME });
    expect(tok.status, tok.text).toBe(201);
    const dir = agentDir();
    const configFile = path.join(dir, 'config.json');
    const r = await runCli(['enroll', '--url', t.url, '--token', tok.body.token, '--fingerprint', tok.body.panelKeyFingerprint, '--name', AGENT_NAME, '--config', configFile, '--data-dir', path.join(dir, 'data')]);
    expect(r.code, r.stderr).toBe(0);
    agentId = JSON.parse(fs.readFileSync(configFile, 'utf8')).agentId;
    patchConfig(configFile, {
      commands: { 'say-hello': ['/bin/sh', '-c', 'echo line-one; sleep 1; echo line-two'], 'disk-usage': '/bin/df -h /' },
      reconnect: { delayMs: 100, maxDelayMs: 500 },
    });
    agent = agentProcess(dir, configFile);
    agent.start();

    browser = await launch();
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    if (agent) fs.rmSync(agent.dir, { recursive: true, force: true });
    await t?.close();
  });

  const pageErrors = { get all() { return browser.errors; } };
  const step = <T>(name: string, fn: () => Promise<T>) =>
    e2eStep(page, `monitoring-${name}`, fn, () => `page errors: ${JSON.stringify(pageErrors.all)}; agent stderr: ${agent.stderr.slice(-2000)}`);

  const widget = () => page.getByTestId('widget-monitoring:fleet-health');

  it('shows the agent online, live charts, runs a command, creates an alert rule, and the fleet widget follows', async () => {
    await step('log in as the owner; the fleet-health widget renders', async () => {
      await page.goto(`${t.url}/login`);
      await page.getByLabel('E-mail').fill(t.users.owner.email);
      await page.getByLabel('Password').fill(t.users.owner.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByTestId('dashboard').waitFor();
      await widget().getByTestId('monitoring-fleet').waitFor();
      await expect.poll(() => widget().textContent(), { timeout: 20_000 }).toContain('1 of 1 servers online');
      expect(await widget().textContent()).toContain('No alerts firing');
    });

    await step('open Monitoring from the menu: the agent is online', async () => {
      await page.getByTestId('menu-monitoring:monitoring').click();
      await page.waitForURL('**/monitoring');
      const row = page.getByTestId('monitoring-agent-list').locator(`tr[data-agent-id="${agentId}"]`);
      await row.waitFor();
      await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), WAIT).toBe('online');
      await row.getByRole('link', { name: AGENT_NAME }).click();
      await page.waitForURL(`**/monitoring/agents/${agentId}`);
    });

    await step('the dashboard draws charts that update live', async () => {
      const dash = page.getByTestId('monitoring-dashboard');
      await dash.waitFor();
      await expect.poll(() => dash.locator('h2').textContent(), WAIT).toContain(AGENT_NAME);
      const charts = dash.locator('figure.mon-chart');
      await expect.poll(() => charts.count(), WAIT).toBe(5);
      // uPlot drew into every chart.
      await expect.poll(() => dash.locator('figure.mon-chart canvas').count(), WAIT).toBe(5);
      const cpu = charts.filter({ hasText: 'CPU %' });
      const points = async () => Number(await cpu.getAttribute('data-points'));
      const updated = async () => cpu.getAttribute('data-updated');
      await expect.poll(points, WAIT).toBeGreaterThan(0);
      const [p0, u0] = [await points(), await updated()];
      // New samples arrive over the live socket (1 s interval), with no reload.
      await expect.poll(points, { timeout: 15_000 }).toBeGreaterThan(p0 + 1);
      await expect.poll(updated, { timeout: 15_000 }).not.toBe(u0);
      // The live points are the agent's real readings: the CPU series is in the legend.
      expect(await cpu.locator('.u-legend').textContent()).toContain('cpu_usage_percent');
      // The network chart (prefix metrics) got its per-interface series too.
      const net = charts.filter({ hasText: 'Network' });
      await expect.poll(() => net.locator('.u-legend').textContent(), WAIT).toContain('network_receive_bytes_per_second');
    });

    await step('the command runner runs an allowlisted command with live output', async () => {
      const runner = page.getByTestId('monitoring-commands');
      await runner.waitFor();
      await runner.getByLabel('Command').selectOption('say-hello');
      await runner.getByRole('button', { name: 'Run' }).click();
      const output = runner.getByTestId('monitoring-command-output');
      await expect.poll(() => output.textContent(), { timeout: 15_000 }).toContain('line-one');
      await expect.poll(() => output.textContent(), { timeout: 15_000 }).toContain('line-two');
      await expect.poll(() => runner.getByTestId('monitoring-command-status').textContent(), WAIT).toContain('succeeded (exit 0)');
      // A second run replaces the output.
      await runner.getByLabel('Command').selectOption('disk-usage');
      await runner.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => output.textContent(), { timeout: 15_000 }).toContain('Filesystem');
      expect(await output.textContent()).not.toContain('line-one');
      await expect.poll(() => runner.getByTestId('monitoring-command-status').textContent(), WAIT).toContain('succeeded (exit 0)');
      const history = await t.as('owner').get(`${API}/agents/${agentId}/commands`);
      expect(history.body.items.map((c: { name: string }) => c.name).sort()).toEqual(['disk-usage', 'say-hello']);
    });

    await step('create an alert rule in the editor: it appears in the list, fires, and shows in the history', async () => {
      await page.getByTestId('menu-monitoring:monitoring-alerts').click();
      await page.waitForURL('**/monitoring/alerts');
      const alerts = page.getByTestId('monitoring-alerts');
      await alerts.waitFor();
      const form = alerts.locator('form.mon-rule-form');
      await form.getByLabel('Rule name').fill('e2e cpu seen');
      await form.getByLabel('Metric').fill('uptime_seconds');
      await form.getByLabel('Comparison').selectOption('>');
      await form.getByLabel('Threshold').fill('0');
      await form.getByLabel('For (seconds)').fill('0');
      await form.getByLabel('Severity').selectOption('critical');
      await form.getByRole('button', { name: 'Add rule' }).click();
      const row = alerts.locator('tbody tr', { hasText: 'e2e cpu seen' });
      await row.waitFor();
      expect(await row.textContent()).toContain('uptime_seconds > 0 for 0s');
      expect(await row.textContent()).toContain('critical');
      const rules = await t.as('owner').get(`${API}/alert-rules`);
      expect(rules.body.items).toMatchObject([{ name: 'e2e cpu seen', metric: 'uptime_seconds', comparison: '>', threshold: 0, durationSeconds: 0, severity: 'critical' }]);
      // The agent's uptime is > 0: the rule fires; the history updates live.
      await alerts.locator('li[data-state="firing"]', { hasText: 'e2e cpu seen' }).waitFor({ timeout: 20_000 });
    });

    await step('the fleet-health widget shows the firing alert', async () => {
      await page.getByRole('link', { name: 'Dashboard' }).click();
      await page.getByTestId('dashboard').waitFor();
      await expect.poll(() => widget().textContent(), { timeout: 15_000 }).toContain('1 critical alerts firing');
      expect(await widget().textContent()).toContain('1 of 1 servers online');
    });

    expect(pageErrors.all.filter((e) => !/status of 40[134]/.test(e))).toEqual([]);
    expect(agent.child?.exitCode).toBeNull();
  }, 180_000);
});
