#!/usr/bin/env node
// `npm create mpanel-plugin <name>` runs this file (the package's bin).
import path from 'node:path';
import { CliError } from './errors.js';
import { npmInstall } from './install.js';
import { parseCommand, USAGE, type ScaffoldOptions } from './options.js';
import { scaffold } from './scaffold.js';

function nextSteps(o: ScaffoldOptions, dir: string, installed: boolean): string {
  const steps = [`cd ${path.relative(process.cwd(), dir) || '.'}`, ...(installed ? [] : ['npm install']), 'npm run build', 'npm test    # real PostgreSQL at 127.0.0.1:5432, or set MPANEL_TEST_PG'];
  return `Created the plugin "${o.id}" (package ${o.packageName}) in ${dir}

Next steps:
${steps.map((s) => `  ${s}`).join('\n')}

Then read the plugin developer guide: docs/plugins/tutorial.md in the mpanel repository.
`;
}

function main(argv: string[]): number {
  const command = parseCommand(argv);
  if (command.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { options } = command;
  const { dir } = scaffold(options);
  if (options.install) npmInstall(dir);
  process.stdout.write(nextSteps(options, dir, options.install));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`create-mpanel-plugin: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    // A bug in the scaffolder: keep the stack for the report.
    process.stderr.write(`create-mpanel-plugin: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
