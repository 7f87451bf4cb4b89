#!/usr/bin/env node
import 'reflect-metadata';
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { pino } from 'pino';
import { loadConfig, type PanelConfig } from '../config/load.js';
import { openDatabase, migrateCore, pendingCoreMigrations } from '../db/orm.js';
import { Panel } from '../panel.js';
import { ProblemError, isProblem } from '../errors/problem.js';
import { CORE_VERSION } from '../version.js';
import { runUserCreate, runTokenCreate, runAuditVerify } from './commands.js';
import { registerPluginCommands } from './plugin-commands.js';

/** Exit codes: 0 ok, 1 failure reported by the command, 2 bad usage. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function config(): PanelConfig {
  return loadConfig(process.env);
}

async function start(): Promise<void> {
  const cfg = config();
  const panel = await Panel.create(cfg);
  let url: string;
  try {
    ({ url } = await panel.listen());
  } catch (error) {
    // Close the database too, or the process would stay alive after the error.
    await panel.close().catch(() => undefined);
    throw error;
  }
  if (panel.setupToken) {
    const line = '─'.repeat(72);
    process.stdout.write(`\n${line}\n mpanel needs first-run setup.\n Setup token: ${panel.setupToken}\n (also in ${cfg.dataDir}/setup-token)\n POST ${url}/api/v1/setup with {"token","email","password","name"}\n${line}\n\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    panel.kernel.log.info({ signal }, 'shutting down: finishing in-flight requests');
    panel.close().then(
      () => process.exit(0),
      (err) => {
        panel.kernel.log.error({ err }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function migrate(opts: { status?: boolean }): Promise<void> {
  const cfg = config();
  const { orm } = await openDatabase(cfg);
  try {
    if (opts.status) {
      const pending = await pendingCoreMigrations(orm);
      process.stdout.write(pending.length ? `pending: ${pending.join(', ')}\n` : 'up to date\n');
      return;
    }
    const ran = await migrateCore(orm);
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'up to date\n');
  } finally {
    await orm.close();
  }
}

/** Opens the kernel without serving HTTP (for one-shot commands). */
async function withPanel<T>(fn: (panel: Panel) => Promise<T>): Promise<T> {
  const cfg = config();
  // Logs go to stderr: stdout carries the command's (JSON) result for scripts.
  const panel = await Panel.create(cfg, { logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination({ dest: 2, sync: true })) });
  try {
    return await fn(panel);
  } finally {
    await panel.close();
  }
}

function readPassword(opts: { password?: string; passwordStdin?: boolean }): string {
  if (opts.passwordStdin) return fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (opts.password) return opts.password;
  if (process.env.MPANEL_PASSWORD) return process.env.MPANEL_PASSWORD;
  throw new ProblemError('validation-failed', 'Give a password with --password-stdin (preferred), --password or MPANEL_PASSWORD');
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('mpanel')
    .description('mpanel — hosting control panel kernel. Configuration comes from the environment (see README).')
    .version(CORE_VERSION)
    .showHelpAfterError()
    .exitOverride();

  program.command('start').description('Run the panel: migrate, then serve HTTP on HOST:PORT').action(start);

  program
    .command('migrate')
    .description('Apply pending core database migrations')
    .option('--status', 'only list pending migrations')
    .action(migrate);

  const user = program.command('user').description('Manage users');
  user
    .command('create')
    .description('Create a user (use --owner on a fresh installation to create the platform owner instead of running setup)')
    .requiredOption('--email <email>', 'e-mail address (login name)')
    .requiredOption('--name <name>', 'display name')
    .option('--tenant <id>', 'tenant id (default: the platform tenant)')
    .option('--role <key>', 'role to grant on the tenant (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--owner', 'create the platform tenant and this user as its owner (fresh installation only)')
    .option('--password <password>', 'password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (opts) => {
      const password = readPassword(opts);
      const out = await withPanel((panel) => runUserCreate(panel.kernel, { ...opts, password }));
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });

  const token = program.command('token').description('Manage API tokens');
  token
    .command('create')
    .description('Create an API token for a user; prints the secret once')
    .requiredOption('--user <email>', 'owner of the token')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--permission <name>', 'permission the token carries (repeatable; default: all of the user’s)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--days <n>', 'days until it expires (1–365)', '90')
    .action(async (opts) => {
      const out = await withPanel((panel) => runTokenCreate(panel.kernel, opts));
      process.stdout.write(`${JSON.stringify(out)}\n`);
    });

  const audit = program.command('audit').description('Audit trail');
  audit
    .command('verify')
    .description('Re-compute the hash chain; exits 1 and names the first broken entry if it was tampered with')
    .option('--anchor <seq:hash>', 'an earlier verify’s lastSeq:lastHash (kept outside the panel): also detects a truncated trail')
    .action(async (o: { anchor?: string }) => {
      const result = await withPanel((panel) => runAuditVerify(panel.kernel, o.anchor));
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (!result.ok) process.exitCode = EXIT_FAILURE;
    });
  registerPluginCommands(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end up here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    if (isProblem(error)) {
      process.stderr.write(`mpanel: ${error.message}\n`);
      const extra = error.extensions.errors as Array<{ pointer: string; message: string }> | undefined;
      for (const e of extra ?? []) process.stderr.write(`  ${e.pointer}: ${e.message}\n`);
      process.exitCode = error.status < 500 ? EXIT_FAILURE : EXIT_FAILURE;
      return;
    }
    process.stderr.write(`mpanel: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

await main();
// A failed command must not hang on whatever it left open (a half-created panel's database pool, timers).
if (process.exitCode) process.exit(process.exitCode);
