import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import semver from 'semver';
import { manifestSchema, SDK_VERSION, type PluginManifest } from '@mpanel/sdk';
import { ProblemError } from '../errors/problem.js';

/** A plugin package as read from disk or a registry's package metadata. */
export interface PluginPackage {
  name: string;
  version: string;
  manifest: PluginManifest;
  /** Server entry path inside the package. */
  entry: string;
  /** Runtime dependencies besides the SDK (installed with npm). */
  dependencies: Record<string, string>;
}

// The manifest schema is draft 2020-12 (what the SDK publishes).
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(manifestSchema as object);
const settingsAjv = new Ajv({ allErrors: true, strict: false });

/** Validates the `mpanel` field of a package.json and the package basics. Throws `plugin-invalid` with field errors. */
export function parsePluginPackage(pkg: Record<string, any>): PluginPackage {
  const errors: Array<{ pointer: string; message: string }> = [];
  if (typeof pkg?.name !== 'string') errors.push({ pointer: '/name', message: 'is required' });
  if (typeof pkg?.version !== 'string' || !semver.valid(pkg.version)) errors.push({ pointer: '/version', message: 'must be a semver version' });
  if (!pkg?.mpanel) errors.push({ pointer: '/mpanel', message: 'is required: the plugin manifest' });
  else if (!validate(pkg.mpanel)) {
    for (const e of validate.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : '';
      errors.push({ pointer: `/mpanel${e.instancePath}${extra}`, message: e.keyword === 'additionalProperties' ? 'is not an allowed field' : (e.message ?? 'is invalid') });
    }
  }
  if (errors.length === 0) {
    const m = pkg.mpanel as PluginManifest;
    if (!semver.validRange(m.sdk)) errors.push({ pointer: '/mpanel/sdk', message: 'must be a semver range' });
    for (const [dep, range] of Object.entries(m.requires ?? {})) {
      if (!semver.validRange(range)) errors.push({ pointer: `/mpanel/requires/${dep}`, message: 'must be a semver range' });
      if (dep === m.id) errors.push({ pointer: `/mpanel/requires/${dep}`, message: 'a plugin cannot require itself' });
    }
    for (const [i, perm] of (m.permissions ?? []).entries()) {
      if (!perm.name.startsWith(`${m.id}.`)) errors.push({ pointer: `/mpanel/permissions/${i}/name`, message: `must start with "${m.id}."` });
    }
    if (m.settings) {
      try {
        settingsAjv.compile(m.settings);
      } catch (err) {
        errors.push({ pointer: '/mpanel/settings', message: `is not a valid JSON Schema: ${(err as Error).message}` });
      }
      if (m.settings.type !== 'object') errors.push({ pointer: '/mpanel/settings/type', message: 'must be "object"' });
    }
  }
  if (errors.length) {
    throw new ProblemError('plugin-invalid', `The package ${pkg?.name ?? '?'}@${pkg?.version ?? '?'} has no valid mpanel manifest: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, { errors });
  }
  const manifest = pkg.mpanel as PluginManifest;
  const entry = manifest.server ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
  const dependencies = Object.fromEntries(Object.entries((pkg.dependencies ?? {}) as Record<string, string>).filter(([n]) => n !== '@mpanel/sdk'));
  return { name: pkg.name, version: pkg.version, manifest, entry, dependencies };
}

export function readPluginPackage(dir: string): PluginPackage {
  const file = path.join(dir, 'package.json');
  let pkg: Record<string, any>;
  try {
    pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ProblemError('plugin-invalid', `Cannot read ${file}: ${(err as Error).message}`);
  }
  return parsePluginPackage(pkg);
}

/** Checks the `sdk` range against this panel's SDK. */
export function checkSdk(p: PluginPackage): void {
  if (!semver.satisfies(SDK_VERSION, p.manifest.sdk, { includePrerelease: true })) {
    throw new ProblemError('plugin-incompatible', `${p.manifest.id}@${p.version} needs SDK ${p.manifest.sdk}; this panel has ${SDK_VERSION}`, { sdk: p.manifest.sdk, available: SDK_VERSION });
  }
}

/** Checks `requires` against the enabled plugins (id → version). */
export function checkRequires(p: PluginPackage, enabled: ReadonlyMap<string, string>): void {
  for (const [dep, range] of Object.entries(p.manifest.requires ?? {})) {
    const have = enabled.get(dep);
    if (!have) throw new ProblemError('plugin-dependency', `${p.manifest.id} requires the plugin "${dep}" (${range}); install and enable it first`, { requires: dep, range });
    if (!semver.satisfies(have, range, { includePrerelease: true })) {
      throw new ProblemError('plugin-dependency', `${p.manifest.id} requires "${dep}" ${range}, but ${have} is enabled`, { requires: dep, range, have });
    }
  }
}

/** Orders plugins so that every plugin comes after the ones it requires; unknown requirements are left for checkRequires. */
export function orderByDependencies<T extends { id: string; manifest: PluginManifest }>(plugins: T[]): T[] {
  const byId = new Map(plugins.map((p) => [p.id, p]));
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: T, trail: string[]) => {
    if (state.get(p.id) === 'done') return;
    if (state.get(p.id) === 'visiting') throw new ProblemError('plugin-dependency', `Plugins require each other in a cycle: ${[...trail, p.id].join(' → ')}`);
    state.set(p.id, 'visiting');
    for (const dep of Object.keys(p.manifest.requires ?? {})) {
      const d = byId.get(dep);
      if (d) visit(d, [...trail, p.id]);
    }
    state.set(p.id, 'done');
    out.push(p);
  };
  for (const p of plugins) visit(p, []);
  return out;
}

/** Validates settings against the manifest's schema (with defaults filled in). */
export function validateSettings(manifest: PluginManifest, settings: unknown): Record<string, unknown> {
  if (!manifest.settings) return {};
  const value = structuredClone(settings ?? {}) as Record<string, unknown>;
  const v = new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(manifest.settings);
  if (!v(value)) {
    throw new ProblemError('validation-failed', 'The settings do not match the plugin’s settings schema', {
      errors: (v.errors ?? []).map((e) => ({ pointer: `/body${e.instancePath}`, message: e.message ?? 'is invalid' })),
    });
  }
  return value;
}
