import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';
import type { ScaffoldOptions } from './options.js';
import { displayNameFromId, schemaFromId } from './plugin-id.js';
import { renderTemplate, type TemplateValues } from './template.js';
import { PINNED_VERSIONS } from './versions.js';

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/** Writes the plugin into `<cwd>/<name>`. Refuses a directory that has anything in it. */
export function scaffold(options: ScaffoldOptions, cwd = process.cwd()): ScaffoldResult {
  const dir = path.resolve(cwd, options.name);
  assertUsableTarget(dir, options.name);
  fs.mkdirSync(dir, { recursive: true });
  const files = renderTemplate(dir, templateValues(options));
  return { dir, files };
}

function assertUsableTarget(dir: string, name: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`"${name}" exists and is not a directory; choose another name`);
  // Never mix generated files into someone's work (even a lone .git or README).
  if (fs.readdirSync(dir).length > 0) throw new UsageError(`The directory "${name}" exists and is not empty; choose another name or empty it first`);
}

export function templateValues(o: ScaffoldOptions): TemplateValues {
  const displayName = displayNameFromId(o.id);
  return {
    id: o.id,
    packageName: o.packageName,
    displayName,
    description: o.description ?? `${displayName}: an mpanel plugin.`,
    schema: schemaFromId(o.id),
    entityPrefix: displayName.replace(/ /g, ''),
    sdkVersion: PINNED_VERSIONS.sdk,
    coreVersion: PINNED_VERSIONS.core,
    typescriptVersion: PINNED_VERSIONS.typescript,
    vitestVersion: PINNED_VERSIONS.vitest,
    typesNodeVersion: PINNED_VERSIONS.typesNode,
  };
}
