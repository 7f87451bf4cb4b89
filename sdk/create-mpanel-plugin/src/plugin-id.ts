import { UsageError } from './errors.js';

/**
 * The manifest schema's id pattern (sdk/src/manifest.ts). Checked here too so
 * a bad name fails before any file is written, not later when the panel
 * refuses the manifest.
 */
const PLUGIN_ID = /^[a-z][a-z0-9-]{1,49}$/;

/** Package names conventionally carry this prefix; the id should not repeat it. */
const PACKAGE_PREFIX = 'mpanel-plugin-';

/**
 * Turns the name given on the command line into the plugin id.
 * `mpanel-plugin-backups` and `backups` both give the id `backups`.
 */
export function pluginIdFromName(name: string): string {
  if (name.includes('/') || name.includes('\\')) {
    throw new UsageError(`"${name}" is a path; give a plain name and run the command in the parent directory`);
  }
  const id = name.startsWith(PACKAGE_PREFIX) ? name.slice(PACKAGE_PREFIX.length) : name;
  if (!PLUGIN_ID.test(id)) {
    throw new UsageError(
      `Invalid plugin name "${name}": use 2–50 lowercase letters, digits and dashes, starting with a letter (for example "backup-reports")`,
    );
  }
  return id;
}

/** `backup-reports` → `Backup Reports`: a starting point for the manifest's displayName. */
export function displayNameFromId(id: string): string {
  return id
    .split('-')
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
}

/** The PostgreSQL schema the panel gives the plugin (core/src/plugins/migrations.ts: dashes become underscores). */
export function schemaFromId(id: string): string {
  return `plugin_${id.replace(/-/g, '_')}`;
}
