import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { pluginIdFromName } from './plugin-id.js';

export const USAGE = `Usage: npm create mpanel-plugin <name> [-- options]
       create-mpanel-plugin <name> [options]

Creates the directory <name> with a complete mpanel plugin: manifest,
definePlugin() entry, a migration, an entity, routes, a UI panel and a test
that runs against a real panel with the SDK's test harness.

<name> is the plugin id (2–50 lowercase letters, digits and dashes, starting
with a letter); a leading "mpanel-plugin-" is dropped from the id.

Options:
  --scope <@scope>        publish as @scope/mpanel-plugin-<id> (default: mpanel-plugin-<id>)
  --description <text>    one-line description for package.json and the consent screen
  --install               run "npm install" in the new directory afterwards
  --no-install            do not run "npm install" (the default: works offline)
  -h, --help              show this help

With "npm create", put options after "--" so npm does not take them itself:
  npm create mpanel-plugin backups -- --scope @acme --description "Nightly backups"
`;

export interface ScaffoldOptions {
  /** Directory name, as given. */
  name: string;
  id: string;
  packageName: string;
  description: string | undefined;
  install: boolean;
}

export type ParsedCommand = { help: true } | { help: false; options: ScaffoldOptions };

// npm scope rules: lowercase and URL-safe.
const SCOPE = /^@[a-z0-9][a-z0-9._~-]*$/;
const MAX_DESCRIPTION = 2000; // the manifest schema's limit

export function parseCommand(argv: string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        scope: { type: 'string' },
        description: { type: 'string' },
        install: { type: 'boolean' },
        'no-install': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs' messages are good ("Unknown option '--x'"); add where to look next.
    throw new UsageError(`${(err as Error).message}\nRun with --help to see the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0
      ? 'Missing the plugin name: create-mpanel-plugin <name> (see --help)'
      : `Expected one plugin name, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  if (values.install && values['no-install']) throw new UsageError('Use either --install or --no-install, not both');
  const name = positionals[0]!;
  const id = pluginIdFromName(name);
  return { help: false, options: { name, id, packageName: packageName(id, values.scope), description: description(values.description), install: values.install === true } };
}

function packageName(id: string, scope: string | undefined): string {
  if (scope === undefined) return `mpanel-plugin-${id}`;
  const normalised = scope.startsWith('@') ? scope : `@${scope}`;
  if (!SCOPE.test(normalised)) throw new UsageError(`Invalid scope "${scope}": use lowercase letters, digits, ".", "_", "~" or "-", like @acme`);
  return `${normalised}/mpanel-plugin-${id}`;
}

function description(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!trimmed) throw new UsageError('--description must not be empty');
  // It is shown on the panel's consent screen as one line.
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new UsageError('--description must be a single line without control characters');
  if (trimmed.length > MAX_DESCRIPTION) throw new UsageError(`--description may have at most ${MAX_DESCRIPTION} characters`);
  return trimmed;
}
