import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { ProblemError } from '../errors/problem.js';

/**
 * `mpanel plugin …` talks to a running panel's HTTP API (the same one the UI
 * uses), so installs happen in the live process without a restart. It needs
 * an API token with the plugin.* permissions: `mpanel token create`.
 */
interface ApiOptions {
  url?: string;
  token?: string;
}

function endpoint(opts: ApiOptions): { url: string; token: string } {
  const url = (opts.url ?? process.env.MPANEL_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`).replace(/\/+$/, '');
  const token = opts.token ?? process.env.MPANEL_TOKEN;
  if (!token) throw new ProblemError('unauthenticated', 'Give an API token with --token or MPANEL_TOKEN (create one with `mpanel token create`)');
  return { url, token };
}

async function call(opts: ApiOptions, method: string, path: string, body?: unknown): Promise<any> {
  const { url, token } = endpoint(opts);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ProblemError('not-ready', `The panel at ${url} does not answer (${(err as Error).message}); is it running?`);
  }
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = new Error(parsed?.detail ?? `${res.status} ${text}`) as Error & { problem?: unknown; status?: number };
    e.problem = parsed;
    e.status = res.status;
    throw e;
  }
  return parsed;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function table(rows: Array<Record<string, unknown>>): void {
  if (rows.length === 0) {
    process.stdout.write('no plugins installed\n');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(cols)}\n${rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))).join('\n')}\n`);
}

/** Asks on a terminal; elsewhere the caller must pass --approve. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Shows what a package asks for and gets the admin's approval (flag or prompt). */
async function approval(opts: ApiOptions & { approve?: string }, pkg: string, version?: string, granted: string[] = []) {
  const q = new URLSearchParams({ package: pkg, ...(version ? { version } : {}) });
  const p = await call(opts, 'GET', `/api/v1/plugin-catalog/preview?${q}`);
  const caps = (p.capabilities as Array<{ name: string; description: string }>).filter((c) => !granted.includes(c.name));
  process.stderr.write(`${p.displayName} (${p.id}) ${p.version} — ${p.description}\n`);
  process.stderr.write(`integrity: ${p.integrity}\n`);
  process.stderr.write(caps.length ? `asks for:\n${caps.map((c) => `  ${c.name}: ${c.description}`).join('\n')}\n` : 'asks for no capabilities\n');
  const perms = p.permissions as Array<{ name: string; description: string }>;
  if (perms.length) process.stderr.write(`defines permissions:\n${perms.map((x) => `  ${x.name}: ${x.description}`).join('\n')}\n`);
  if (opts.approve !== undefined) {
    const approved = opts.approve === 'none' ? [] : opts.approve.split(',').map((s) => s.trim()).filter(Boolean);
    return { capabilities: approved, integrity: p.integrity as string };
  }
  if (await confirm(`Install ${p.id} ${p.version} and grant ${caps.length ? caps.map((c) => c.name).join(', ') : 'nothing'}?`)) {
    return { capabilities: caps.map((c) => c.name), integrity: p.integrity as string };
  }
  throw new ProblemError('consent-required', `Not approved. Re-run with --approve ${caps.length ? caps.map((c) => c.name).join(',') : 'none'} to approve exactly this`);
}

export function registerPluginCommands(program: Command): void {
  const plugin = program
    .command('plugin')
    .description('Manage plugins of a running panel through its API (needs --token / MPANEL_TOKEN with plugin.* permissions)')
    .option('--url <url>', 'panel URL (default: MPANEL_URL or http://127.0.0.1:$PORT)')
    .option('--token <token>', 'API token (default: MPANEL_TOKEN)');
  const api = (cmd: Command): ApiOptions => cmd.optsWithGlobals() as ApiOptions;

  plugin
    .command('list')
    .description('Installed plugins and their state')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const list = (await call(api(cmd), 'GET', '/api/v1/plugins')) as Array<Record<string, any>>;
      if (o.json) return print(list);
      table(list.map((p) => ({ id: p.id, version: p.version, state: p.state, source: p.source, package: p.package, error: p.lastError ? String(p.lastError).split('\n')[0] : '' })));
    });

  plugin
    .command('install <package>')
    .description('Install a plugin from the configured registry and enable it; <package> may carry a version: name@1.2.0 or name@^1')
    .option('--approve <capabilities>', 'comma-separated capabilities to grant, or "none" (default: ask on a terminal)')
    .action(async (spec: string, o: { approve?: string }, cmd: Command) => {
      // `@scope/name@range`: the version separator is the last @ that is not the first character.
      const at = spec.lastIndexOf('@');
      const [pkg, version] = at > 0 ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, undefined];
      const opts = { ...api(cmd), approve: o.approve };
      const approve = await approval(opts, pkg, version);
      print(await call(opts, 'POST', '/api/v1/plugins', { package: pkg, ...(version ? { version } : {}), approve }));
    });

  for (const action of ['enable', 'disable'] as const) {
    plugin
      .command(`${action} <id>`)
      .description(action === 'enable' ? 'Enable an installed plugin' : 'Disable a plugin (its data stays)')
      .action(async (id: string, _o: unknown, cmd: Command) => print(await call(api(cmd), 'POST', `/api/v1/plugins/${encodeURIComponent(id)}/${action}`)));
  }

  plugin
    .command('upgrade <id>')
    .description('Upgrade a plugin (default: latest); new capabilities need approval; failures roll back')
    .option('--to <range>', 'version or range to upgrade to (default: latest)')
    .option('--approve <capabilities>', 'comma-separated new capabilities to grant, or "none"')
    .action(async (id: string, o: { to?: string; approve?: string }, cmd: Command) => {
      const opts = { ...api(cmd), approve: o.approve };
      const current = await call(opts, 'GET', `/api/v1/plugins/${encodeURIComponent(id)}`);
      const approve = await approval(opts, current.package, o.to, current.grantedCapabilities);
      print(await call(opts, 'POST', `/api/v1/plugins/${encodeURIComponent(id)}/upgrade`, { ...(o.to ? { version: o.to } : {}), approve }));
    });

  plugin
    .command('uninstall <id>')
    .description('Uninstall a plugin; --purge also reverts its migrations and drops its tables')
    .option('--purge', 'delete the plugin’s data')
    .action(async (id: string, o: { purge?: boolean }, cmd: Command) => {
      print(await call(api(cmd), 'DELETE', `/api/v1/plugins/${encodeURIComponent(id)}${o.purge ? '?purge=true' : ''}`));
    });
}
