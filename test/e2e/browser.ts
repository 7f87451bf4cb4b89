// Shared pieces of the browser tests: a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), a panel serving the built
// shell, and screenshots of the page when a step fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const UI_DIST = path.join(ROOT, 'ui', 'dist');
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The built shell (npm test builds it first; a lone run of this file builds it here). */
export function ensureUiBuilt(): string {
  if (!fs.existsSync(path.join(UI_DIST, 'index.html'))) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: path.join(ROOT, 'ui'), stdio: 'inherit' });
  }
  return UI_DIST;
}

export async function launch(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void>; errors: string[] }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Runs a step; when it fails, saves a screenshot (and the page's HTML) under
 * test/artifacts/ and rethrows. `more` adds diagnostics to the message (e.g.
 * a helper process's stderr). Plugins' browser tests use this too.
 */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>, more?: () => string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const base = path.join(ARTIFACTS, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => undefined);
    fs.writeFileSync(`${base}.html`, await page.content().catch(() => ''));
    const extra = more ? `; ${more()}` : '';
    throw new Error(`step "${name}" failed (screenshot: ${path.relative(ROOT, base)}.png${extra}): ${(error as Error).message}`, { cause: error });
  }
}
