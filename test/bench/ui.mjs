#!/usr/bin/env node
/**
 * Web shell benchmark:
 *   1. the shell's initial JS + CSS (what index.html loads: the entry, its
 *      modulepreloads and stylesheets), gzip-compressed, against the 150 KB
 *      target; every other chunk (pages, plugin panels) is lazy;
 *   2. in headless Chromium, the time from navigation to the dashboard being
 *      rendered for a logged-in admin (median of BENCH_RUNS navigations),
 *      against a baseline measured in the same run: navigating to a tiny
 *      server response (/healthz) — so the ratio means something on any machine.
 *
 *   npm run bench:ui            (builds everything first)
 *   BENCH_RUNS=20 node test/bench/ui.mjs
 *
 * Needs the built shell (ui/dist), core/dist, PostgreSQL at 127.0.0.1:5432
 * (a scratch database is created and dropped) and /usr/bin/chromium.
 * Output: a table on stdout and JSON in test/bench/results/ui-latest.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'ui', 'dist');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const TARGET_KB = 150;
const watchdog = setTimeout(() => {
  process.stderr.write('bench:ui: watchdog fired after 5 minutes\n');
  process.exit(1);
}, 5 * 60_000);
watchdog.unref();

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

function initialAssets() {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const refs = [
    ...[...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => m[1]),
    ...[...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]),
    ...[...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]),
  ];
  const files = [...new Set(refs)].map((r) => path.join(DIST, r));
  const js = files.filter((f) => f.endsWith('.js')).reduce((s, f) => s + gz(f), 0);
  const css = files.filter((f) => f.endsWith('.css')).reduce((s, f) => s + gz(f), 0);
  const all = fs.readdirSync(path.join(DIST, 'assets')).map((f) => path.join(DIST, 'assets', f));
  const lazy = all.filter((f) => !files.includes(f) && /\.(js|css)$/.test(f)).reduce((s, f) => s + gz(f), 0);
  return { files: files.length, jsGzip: js, cssGzip: css, totalGzip: js + css, lazyGzip: lazy, htmlGzip: gz(path.join(DIST, 'index.html')) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('ui/dist is missing: run npm run build first');
  const size = initialAssets();
  const helloUi = path.join(ROOT, 'examples', 'hello', 'dist', 'ui', 'index.js');
  const pluginPanelGzip = fs.existsSync(helloUi) ? gz(helloUi) : null;

  const { default: pg } = await import('pg');
  const { Panel, loadConfig } = await import('@mpanel/core');
  const { pino } = await import('pino');
  const { chromium } = await import('playwright-core');
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `mpanel_bench_ui_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-ui-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-chromium-'));
  let panel;
  let context;
  try {
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    const config = loadConfig({ LOG_LEVEL: 'silent' }, { databaseUrl: u.toString(), dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', uiDir: DIST, shutdownGraceSeconds: 2 });
    panel = await Panel.create(config, { logger: pino({ level: 'silent' }), validateResponses: false });
    const { url } = await panel.listen(0, '127.0.0.1');
    const owner = { token: panel.setupToken, email: 'bench@example.test', password: 'correct-horse-battery-9', name: 'Bench' };
    const setup = await fetch(`${url}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(owner) });
    if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${await setup.text()}`);

    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${url}/login`);
    await page.getByLabel('E-mail').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('dashboard').waitFor();

    const dashboard = [];
    const baseline = [];
    // Warm-up (server caches, Chromium's code cache), then measured runs; the HTTP cache is kept (a returning admin).
    for (let i = 0; i < RUNS + 2; i++) {
      const t0 = Date.now();
      await page.goto(`${url}/healthz`, { waitUntil: 'load' });
      const tb = Date.now() - t0;
      const t1 = Date.now();
      await page.goto(`${url}/`, { waitUntil: 'commit' });
      await page.getByTestId('dashboard').waitFor();
      const td = Date.now() - t1;
      if (i >= 2) {
        baseline.push(tb);
        dashboard.push(td);
      }
    }
    // A cold visit: empty HTTP cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    const c0 = Date.now();
    await page.goto(`${url}/`, { waitUntil: 'commit' });
    await page.getByTestId('dashboard').waitFor();
    const cold = Date.now() - c0;

    const result = {
      at: new Date().toISOString(),
      initial: size,
      initialKB: +(size.totalGzip / 1024).toFixed(1),
      targetKB: TARGET_KB,
      withinTarget: size.totalGzip / 1024 <= TARGET_KB,
      pluginPanelGzip,
      runs: RUNS,
      dashboardMedianMs: median(dashboard),
      baselineMedianMs: median(baseline),
      ratio: +(median(dashboard) / Math.max(1, median(baseline))).toFixed(2),
      coldDashboardMs: cold,
    };
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log('web shell (gzip)');
    console.log(`  initial JS          ${kb(size.jsGzip)}`);
    console.log(`  initial CSS         ${kb(size.cssGzip)}`);
    console.log(`  initial JS+CSS      ${kb(size.totalGzip)}  (${size.files} files; target ≤ ${TARGET_KB} KB: ${result.withinTarget ? 'met' : 'MISSED'})`);
    console.log(`  lazy chunks         ${kb(size.lazyGzip)}  (pages, UI kit parts, socket.io client — loaded on demand)`);
    if (pluginPanelGzip !== null) console.log(`  hello plugin panel  ${kb(pluginPanelGzip)}  (its own module, loaded at run time)`);
    console.log(`navigation → dashboard rendered, Chromium, median of ${RUNS}`);
    console.log(`  dashboard           ${result.dashboardMedianMs} ms (cold cache: ${cold} ms)`);
    console.log(`  baseline /healthz   ${result.baselineMedianMs} ms`);
    console.log(`  ratio               ${result.ratio}x`);
    fs.mkdirSync(path.join(ROOT, 'test', 'bench', 'results'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test', 'bench', 'results', 'ui-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await context?.close().catch(() => undefined);
    await panel?.close().catch(() => undefined);
    await admin.query(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:ui failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
