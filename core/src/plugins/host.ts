import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { isPluginDefinition, type PluginDefinition, type PluginManifest, type TeardownInfo } from '@mpanel/sdk';
import type { EntitySchema } from '@mikro-orm/core';
import type { Kernel } from '../kernel.js';
import type { Em } from '../db/orm.js';
import { ProblemError, fromForeignProblem } from '../errors/problem.js';
import { appendAudit } from '../audit/store.js';
import { writeOutbox } from '../events/outbox.js';
import { checkRequires, checkSdk, orderByDependencies, readPluginPackage, validateSettings, type PluginPackage } from './manifest.js';
import { migratePluginDown, migratePluginUp, pluginSchema, purgePluginData, appliedMigrations } from './migrations.js';
import { Registrations } from './registrations.js';
import { createPluginContext, ServiceDirectory, type PluginRuntimeState } from './plugin-context.js';
import { RegistryClient, type RegistryRelease } from './registry-client.js';

export type PluginState = 'enabled' | 'disabled' | 'failed';

/** A plugin row as stored in `plugin`. */
export interface PluginRecord {
  id: string;
  packageName: string;
  version: string;
  source: 'registry' | 'local';
  location: string;
  integrity: string | null;
  state: PluginState;
  manifest: PluginManifest;
  grantedCapabilities: string[];
  settings: Record<string, unknown>;
  lastError: string | null;
  errorCount: number;
  installedAt: string;
  updatedAt: string;
}

/** What the admin approves on the consent screen. */
export interface Approval {
  capabilities: string[];
  /** The integrity shown on the consent screen; if given, the download must match it. */
  integrity?: string;
}

interface ActivePlugin {
  record: PluginRecord;
  definition: PluginDefinition<any>;
  regs: Registrations;
  state: PluginRuntimeState;
  entities: EntitySchema[];
}

const require = createRequire(import.meta.url);

/** The same package contents: same registry tarball, or the same local directory at the same version. */
function sameRelease(a: PluginRecord, b: PluginRecord): boolean {
  if (a.source !== b.source || a.version !== b.version) return false;
  return a.source === 'registry' ? a.integrity === b.integrity : a.location === b.location;
}

function rowToRecord(r: Record<string, any>): PluginRecord {
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    id: r.id, packageName: r.package_name, version: r.version, source: r.source, location: r.location, integrity: r.integrity ?? null,
    state: r.state, manifest: json(r.manifest), grantedCapabilities: json(r.granted_capabilities), settings: json(r.settings),
    lastError: r.last_error ?? null, errorCount: Number(r.error_count ?? 0),
    installedAt: new Date(r.installed_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
  };
}

function errorText(err: unknown): string {
  const e = err as Error;
  return (e?.stack ?? e?.message ?? String(err)).split('\n').slice(0, 6).join('\n').slice(0, 4000);
}

/**
 * The plugin host: discovers, installs, enables, disables, upgrades and
 * uninstalls plugins in the running process. State lives in the `plugin`
 * table (the state machine: enabled ⇄ disabled, failed on errors; install
 * and uninstall create and delete the row). Operations are serialised.
 */
export class PluginHost {
  readonly services = new ServiceDirectory();
  readonly registry: RegistryClient;
  private readonly active = new Map<string, ActivePlugin>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pluginsDir: string;
  private lastErrorAudit = new Map<string, number>();
  /** Built-in roles' permissions, read once while booting (see grantToBuiltinRoles). */
  private bootGrants: Map<string, Set<string>> | null = null;
  private shuttingDown = false;
  /** Set while applying another process's change: no audit, no events, no state writes of our own. */
  private following = false;
  /** Plugins whose record this process changed; announced to the other processes when the operation ends. */
  private readonly changed = new Set<string>();
  /** Plugin modules being imported in parallel while booting (activation itself stays in dependency order). */
  private preloaded = new Map<string, Promise<PluginDefinition<any>>>();

  constructor(private readonly k: Kernel) {
    this.pluginsDir = path.join(k.config.dataDir, 'plugins');
    this.registry = new RegistryClient(k.config.registryUrl, path.join(k.config.dataDir, 'npm-cache'));
    k.hooks.onTapError((hook, tapName, error) => void this.recordError(tapName, `hook ${hook}`, error));
    k.events.onSubscriberError((owner, event, error) => void this.recordError(owner, `subscriber of ${event.type}`, error));
  }

  /**
   * Serialises lifecycle operations so two admins can't interleave them. When
   * one ends, the other panel processes on the database are told which
   * plugins changed (whether it succeeded or not: they re-read the record).
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = () => fn().finally(() => this.announceChanges());
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Catches up with changes whose announcement this process missed (its
   * listening connection was down): compares every record with what runs
   * here and follows the ones that differ. Cheap when nothing differs (one
   * query); run periodically with several processes (see Panel.listen).
   */
  async reconcile(): Promise<string[]> {
    const records = new Map((await this.list()).map((r) => [r.id, r]));
    const differing = new Set<string>();
    for (const [id, a] of this.active) {
      const r = records.get(id);
      if (!r || r.state === 'disabled' || (r.state === 'enabled' && !sameRelease(a.record, r))) differing.add(id);
      else if (r.state === 'enabled' && JSON.stringify(validateSettings(r.manifest, r.settings)) !== JSON.stringify(a.state.settings)) differing.add(id);
    }
    for (const [id, r] of records) if (r.state === 'enabled' && !this.active.has(id)) differing.add(id);
    for (const id of differing) await this.follow(id);
    return [...differing];
  }

  /**
   * The record with a `location` of this process. A registry package is
   * unpacked in the data directory of the process that installed it; another
   * process with another data directory (another machine) fetches the same
   * version from the registry into its own — and refuses it unless the
   * registry still serves exactly the tarball the admin approved.
   */
  private async localCopy(record: PluginRecord): Promise<PluginRecord> {
    if (record.source !== 'registry') return record;
    // Always this process's own data directory (the same path when processes share one).
    const dir = this.versionDir(record.id, record.version);
    if (!fs.existsSync(path.join(dir, 'package.json'))) {
      const release = await this.registry.release(record.packageName, record.version);
      if (release.package.version !== record.version || release.integrity !== record.integrity) {
        throw new ProblemError('plugin-integrity', `The registry serves ${record.packageName}@${release.package.version} with integrity ${release.integrity}, not the approved ${record.version} ${record.integrity}; not starting it on this process`);
      }
      try {
        await this.registry.extract(release, dir);
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      this.k.log.info({ plugin: record.id, version: record.version, dir }, 'fetched the plugin package from the registry for this process');
    }
    return { ...record, location: dir };
  }

  private announceChanges(): void {
    for (const id of this.changed) this.k.cluster.send({ kind: 'plugins.changed', id });
    this.changed.clear();
  }

  /**
   * Another panel process changed a plugin (install, enable, disable,
   * upgrade, uninstall, settings): bring this process in line with the
   * database. The other process audited and announced the change; this one
   * only starts, stops or restarts its own copy. A plugin that cannot start
   * here (e.g. its files are not on this machine) is logged, not marked
   * failed for everyone.
   */
  follow(id: string): Promise<void> {
    return this.exclusive(async () => {
      this.following = true;
      try {
        const record = await this.find(id);
        const a = this.active.get(id);
        if (!record || record.state === 'disabled') {
          if (a) await this.deactivate(id, record ? 'disable' : 'uninstall');
          // Our own copy of a registry package goes with it (shared storage: already gone).
          if (!record && a?.record.source === 'registry') fs.rmSync(path.join(this.pluginsDir, id), { recursive: true, force: true });
          return;
        }
        if (record.state !== 'enabled') return; // it failed where it was changed; what runs here keeps running
        if (a && sameRelease(a.record, record)) {
          const settings = validateSettings(record.manifest, record.settings);
          if (JSON.stringify(settings) !== JSON.stringify(a.state.settings)) await this.applySettings(id, settings);
          return;
        }
        const local = await this.localCopy(record);
        if (a) await this.deactivate(id, 'upgrade');
        await this.activate(local, 'follow');
      } catch (err) {
        this.k.log.error({ err: fromForeignProblem(err) ?? err, plugin: id }, 'could not apply a plugin change made by another panel process; restart this process');
      } finally {
        this.following = false;
      }
    });
  }

  private em(): Em {
    return this.k.systemEm();
  }

  // ── queries ────────────────────────────────────────────────────────────

  async list(): Promise<PluginRecord[]> {
    const rows = await this.em().execute<Array<Record<string, any>>>('select * from plugin order by id');
    return rows.map(rowToRecord);
  }

  async get(id: string): Promise<PluginRecord> {
    const rows = await this.em().execute<Array<Record<string, any>>>('select * from plugin where id = ?', [id]);
    if (!rows[0]) throw new ProblemError('not-found', `No plugin "${id}" is installed`);
    return rowToRecord(rows[0]);
  }

  private async find(id: string): Promise<PluginRecord | null> {
    const rows = await this.em().execute<Array<Record<string, any>>>('select * from plugin where id = ?', [id]);
    return rows[0] ? rowToRecord(rows[0]) : null;
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** What is registered for an active plugin (for the API and tests). */
  registrations(id: string): string[] {
    return this.active.get(id)?.regs.list() ?? [];
  }

  private enabledVersions(): Map<string, string> {
    return new Map([...this.active.values()].map((a) => [a.record.id, a.record.version]));
  }

  // ── boot ───────────────────────────────────────────────────────────────

  /**
   * At start: registers local plugin packages (MPANEL_PLUGIN_PATHS or the
   * test harness), then enables every plugin whose state is `enabled` or `failed`, in
   * dependency order. A plugin that fails is marked failed; the panel starts anyway.
   */
  async boot(localPaths: string[] = []): Promise<void> {
    this.linkSdk();
    for (const dir of localPaths) {
      try {
        const pkg = readPluginPackage(dir);
        const existing = await this.find(pkg.manifest.id);
        if (!existing) {
          await this.insertRecord(pkg, { source: 'local', location: dir, integrity: null, capabilities: pkg.manifest.capabilities ?? [] });
        } else if (existing.source === 'local' && (existing.version !== pkg.version || existing.location !== dir)) {
          await this.updateRecord(existing.id, { version: pkg.version, location: dir, manifest: pkg.manifest, grantedCapabilities: pkg.manifest.capabilities ?? [] });
        }
      } catch (err) {
        this.k.log.error({ err, dir }, 'local plugin could not be registered');
      }
    }
    // Failed plugins get another chance at each start (the cause may have been outside the plugin).
    const records: PluginRecord[] = [];
    for (const r of (await this.list()).filter((x) => x.state === 'enabled' || x.state === 'failed')) {
      try {
        records.push(await this.localCopy(r));
      } catch (err) {
        this.k.log.error({ err, plugin: r.id }, 'the plugin package is not on this machine and could not be fetched; it stays off in this process');
      }
    }
    const roles = await this.em().execute<Array<{ key: string; permissions: string[] | string }>>('select key, permissions from role where builtin');
    this.bootGrants = new Map(roles.map((r) => [r.key, new Set<string>(typeof r.permissions === 'string' ? JSON.parse(r.permissions) : r.permissions)]));
    for (const record of records) {
      const loading = this.loadDefinition(record);
      loading.catch(() => undefined); // reported when its activation awaits it
      this.preloaded.set(record.id, loading);
    }
    try {
      for (const record of orderByDependencies(records)) {
        try {
          await this.activate(record, 'restart');
        } catch (err) {
          this.k.log.error({ err: fromForeignProblem(err) ?? err, plugin: record.id }, 'plugin failed to start');
        }
      }
    } finally {
      this.bootGrants = null;
      this.preloaded.clear();
      // Registering local packages at start is this process's own business, not a change to announce.
      this.changed.clear();
    }
  }

  /** Installed plugins import `@mpanel/sdk`: point them at the panel's own copy. */
  private linkSdk(): void {
    const sdkDir = path.dirname(require.resolve('@mpanel/sdk/package.json'));
    const link = path.join(this.pluginsDir, 'node_modules', '@mpanel', 'sdk');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    try {
      if (fs.realpathSync(link) === fs.realpathSync(sdkDir)) return;
      fs.rmSync(link, { recursive: true, force: true });
    } catch {
      // missing link: create it below
    }
    fs.symlinkSync(sdkDir, link, 'dir');
  }

  // ── lifecycle ──────────────────────────────────────────────────────────

  /** Metadata for the consent screen: what the package is and asks for, without installing it. */
  async preview(name: string, range?: string) {
    const release = await this.registry.release(name, range);
    const installed = await this.find(release.package.manifest.id);
    return { release, installed };
  }

  private assertConsent(pkg: PluginPackage, approval: Approval | undefined, integrity: string | null, alreadyGranted: string[] = []): string[] {
    const requested = pkg.manifest.capabilities ?? [];
    const approved = new Set([...(approval?.capabilities ?? []), ...alreadyGranted]);
    const missing = requested.filter((c) => !approved.has(c));
    const integrityChanged = !!approval?.integrity && !!integrity && approval.integrity !== integrity;
    if (missing.length || !approval || integrityChanged) {
      throw new ProblemError('consent-required', integrityChanged
        ? `The package changed since it was shown for approval (integrity ${integrity}); review and approve again`
        : missing.length
          ? `Approve what ${pkg.manifest.id}@${pkg.version} asks for: ${missing.join(', ')}`
          : `Approve the installation of ${pkg.manifest.id}@${pkg.version} (send approve: { capabilities: [] })`, {
        plugin: pkg.manifest.id, version: pkg.version, capabilities: requested, missing, permissions: pkg.manifest.permissions ?? [], integrity,
      });
    }
    return requested;
  }

  /** Installs from the registry (with the admin's approval) and enables. */
  install(name: string, range: string | undefined, approval: Approval | undefined): Promise<PluginRecord> {
    return this.exclusive(async () => {
      const release = await this.registry.release(name, range);
      const pkg = release.package;
      if (await this.find(pkg.manifest.id)) throw new ProblemError('conflict', `The plugin "${pkg.manifest.id}" is installed already; upgrade it instead`);
      checkSdk(pkg);
      checkRequires(pkg, this.enabledVersions());
      const capabilities = this.assertConsent(pkg, approval, release.integrity);
      const dir = this.versionDir(pkg.manifest.id, pkg.version);
      try {
        await this.registry.extract(release, dir);
        readPluginPackage(dir); // the tarball's own package.json must agree with the registry's
      } catch (err) {
        // Leave nothing behind for a plugin that never got installed.
        fs.rmSync(path.join(this.pluginsDir, pkg.manifest.id), { recursive: true, force: true });
        throw err;
      }
      const record = await this.insertRecord(pkg, { source: 'registry', location: dir, integrity: release.integrity, capabilities });
      await this.activateOrFail(record);
      return this.get(record.id);
    });
  }

  /** Installs a plugin from a local directory (test harness, distributions' built-in plugins). */
  installLocal(dir: string, approval: Approval | undefined): Promise<PluginRecord> {
    return this.exclusive(async () => {
      const pkg = readPluginPackage(dir);
      if (await this.find(pkg.manifest.id)) throw new ProblemError('conflict', `The plugin "${pkg.manifest.id}" is installed already`);
      checkSdk(pkg);
      checkRequires(pkg, this.enabledVersions());
      const capabilities = this.assertConsent(pkg, approval, null);
      const record = await this.insertRecord(pkg, { source: 'local', location: path.resolve(dir), integrity: null, capabilities });
      await this.activateOrFail(record);
      return this.get(record.id);
    });
  }

  enable(id: string): Promise<PluginRecord> {
    return this.exclusive(async () => {
      const record = await this.get(id);
      if (this.active.has(id)) throw new ProblemError('plugin-state', `The plugin "${id}" is enabled already`);
      await this.activateOrFail(record);
      return this.get(id);
    });
  }

  disable(id: string): Promise<PluginRecord> {
    return this.exclusive(async () => {
      const record = await this.get(id);
      if (!this.active.has(id)) {
        if (record.state === 'disabled') throw new ProblemError('plugin-state', `The plugin "${id}" is disabled already`);
      } else {
        this.assertNoDependents(id);
        await this.deactivate(id, 'disable');
      }
      await this.updateRecord(id, { state: 'disabled' });
      await this.publish('plugin.disabled', { id, version: record.version });
      return this.get(id);
    });
  }

  /**
   * Upgrades to another version from the registry. More capabilities need a
   * new approval. If the new version fails (migration or setup), its
   * migrations are reverted and the old version is running again.
   */
  upgrade(id: string, range: string | undefined, approval: Approval | undefined): Promise<PluginRecord> {
    return this.exclusive(async () => {
      const current = await this.get(id);
      if (current.source !== 'registry') throw new ProblemError('plugin-state', `"${id}" was installed from a local directory; replace the directory and restart instead`);
      const release = await this.registry.release(current.packageName, range);
      const pkg = release.package;
      if (pkg.manifest.id !== id) throw new ProblemError('plugin-invalid', `${current.packageName}@${pkg.version} declares the id "${pkg.manifest.id}", not "${id}"`);
      if (pkg.version === current.version) throw new ProblemError('plugin-state', `"${id}" is at ${pkg.version} already`);
      checkSdk(pkg);
      const others = this.enabledVersions();
      others.delete(id);
      checkRequires(pkg, others);
      for (const [depId, a] of this.active) {
        const range2 = a.record.manifest.requires?.[id];
        if (range2 && !semver.satisfies(pkg.version, range2, { includePrerelease: true })) {
          throw new ProblemError('plugin-dependency', `"${depId}" requires ${id} ${range2}; ${pkg.version} would break it`);
        }
      }
      const capabilities = this.assertConsent(pkg, approval ?? { capabilities: [] }, release.integrity, current.grantedCapabilities);
      const dir = this.versionDir(id, pkg.version);
      await this.registry.extract(release, dir);
      const wasActive = this.active.has(id);
      if (wasActive) await this.deactivate(id, 'upgrade');
      const before = new Set(await appliedMigrations(this.em(), id));
      await this.updateRecord(id, { version: pkg.version, location: dir, integrity: release.integrity, manifest: pkg.manifest, grantedCapabilities: capabilities, state: 'enabled' });
      try {
        await this.activate(await this.get(id));
      } catch (err) {
        // Roll back: revert the new version's migrations, restore the old record, restart the old version.
        const newDefinition = await this.loadDefinition(await this.get(id)).catch(() => null);
        const added = (await appliedMigrations(this.em(), id)).filter((n) => !before.has(n));
        if (added.length && newDefinition?.migrations) await migratePluginDown(this.em(), id, newDefinition.migrations, added);
        await this.updateRecord(id, { version: current.version, location: current.location, integrity: current.integrity, manifest: current.manifest, grantedCapabilities: current.grantedCapabilities, state: current.state });
        if (wasActive) await this.activate(await this.get(id)).catch((e) => this.k.log.error({ err: e, plugin: id }, 'old version failed to restart after a failed upgrade'));
        fs.rmSync(dir, { recursive: true, force: true });
        const problem = fromForeignProblem(err) ?? (err instanceof ProblemError ? err : null);
        throw new ProblemError('plugin-setup-failed', `Upgrading ${id} to ${pkg.version} failed and was rolled back (${current.version} is running): ${problem?.message ?? (err as Error).message}`, { rolledBackTo: current.version });
      }
      await this.publish('plugin.upgraded', { id, from: current.version, to: pkg.version });
      return this.get(id);
    });
  }

  /** Uninstalls; `purge` also reverts its migrations and drops its schema. Without it, data stays. */
  uninstall(id: string, purge: boolean): Promise<{ id: string; purged: boolean }> {
    return this.exclusive(async () => {
      const record = await this.get(id);
      this.assertNoDependents(id);
      const definition = this.active.get(id)?.definition ?? (purge ? await this.loadDefinition(record).catch(() => null) : null);
      if (this.active.has(id)) await this.deactivate(id, 'uninstall');
      if (purge) await purgePluginData(this.em(), id, definition?.migrations ?? null);
      await this.em().execute('delete from plugin where id = ?', [id]);
      this.changed.add(id);
      if (record.source === 'registry') fs.rmSync(path.join(this.pluginsDir, id), { recursive: true, force: true });
      await this.publish('plugin.uninstalled', { id, purged: purge });
      return { id, purged: purge };
    });
  }

  /** Validates and stores settings, then tells the running plugin. */
  async updateSettings(id: string, settings: unknown): Promise<Record<string, unknown>> {
    const record = await this.get(id);
    const value = validateSettings(record.manifest, settings);
    await this.updateRecord(id, { settings: value });
    await this.applySettings(id, value);
    this.announceChanges();
    return value;
  }

  /** Hands new settings to the running plugin's onChange listeners. */
  private async applySettings(id: string, value: Record<string, unknown>): Promise<void> {
    const a = this.active.get(id);
    if (!a) return;
    a.state.settings = value;
    for (const fn of a.state.settingsListeners) {
      try {
        await fn(structuredClone(value));
      } catch (err) {
        await this.recordError(id, 'settings listener', err);
      }
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.shuttingDown = true;
    for (const id of [...this.active.keys()].reverse()) await this.deactivate(id, 'shutdown').catch(() => undefined);
  }

  // ── internals ──────────────────────────────────────────────────────────

  private versionDir(id: string, version: string): string {
    return path.join(this.pluginsDir, id, version);
  }

  private assertNoDependents(id: string): void {
    const dependents = [...this.active.values()].filter((a) => a.record.manifest.requires?.[id]).map((a) => a.record.id);
    if (dependents.length) throw new ProblemError('plugin-dependency', `Disable ${dependents.join(', ')} first: ${dependents.length > 1 ? 'they require' : 'it requires'} "${id}"`, { dependents });
  }

  private async loadDefinition(record: PluginRecord): Promise<PluginDefinition<any>> {
    const pkg = readPluginPackage(record.location);
    const entry = path.resolve(record.location, pkg.entry);
    if (!entry.startsWith(path.resolve(record.location) + path.sep)) throw new ProblemError('plugin-invalid', `The entry ${pkg.entry} is outside the package`);
    if (!fs.existsSync(entry)) throw new ProblemError('plugin-invalid', `The entry ${pkg.entry} of ${record.id} does not exist (was the plugin built before publishing?)`);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
    } catch (err) {
      throw new ProblemError('plugin-setup-failed', `Loading ${record.id}@${record.version} failed: ${(err as Error).message}`);
    }
    if (!isPluginDefinition(mod.default)) throw new ProblemError('plugin-invalid', `${pkg.entry} of ${record.id} must \`export default definePlugin({...})\``);
    return mod.default;
  }

  private async activateOrFail(record: PluginRecord): Promise<void> {
    try {
      await this.activate(record);
    } catch (err) {
      const problem = err instanceof ProblemError ? err : fromForeignProblem(err);
      if (problem && problem.code !== 'plugin-setup-failed') throw problem;
      throw problem ?? new ProblemError('plugin-setup-failed', `The plugin ${record.id} failed to start: ${(err as Error).message}`);
    }
  }

  /**
   * Loads, migrates and sets up one plugin. On any failure everything it
   * registered is undone and it is marked `failed` with the reason (audited).
   */
  /**
   * `restart` = bringing back a plugin that was already enabled (panel start):
   * not a state change, so it is neither audited nor announced again.
   */
  private async activate(record: PluginRecord, mode: 'change' | 'restart' | 'follow' = 'change'): Promise<void> {
    const id = record.id;
    const regs = new Registrations();
    const entities: EntitySchema[] = [];
    try {
      const pkg = readPluginPackage(record.location);
      if (pkg.manifest.id !== id) throw new ProblemError('plugin-invalid', `The package at ${record.location} declares the id "${pkg.manifest.id}"`);
      checkSdk(pkg);
      const others = this.enabledVersions();
      others.delete(id);
      checkRequires(pkg, others);
      const definition = await (this.preloaded.get(record.id) ?? this.loadDefinition(record));
      await migratePluginUp(this.em(), id, record.version, definition.migrations ?? []);
      for (const perm of pkg.manifest.permissions ?? []) {
        regs.add(`permission ${perm.name}`, this.k.permissions.register({ name: perm.name, description: perm.description, owner: id }));
        if (perm.defaultRoles?.length) {
          await this.grantToBuiltinRoles(perm.name, perm.defaultRoles);
          regs.add(`default grant ${perm.name}`, () => this.revokeFromBuiltinRoles(perm.name));
        }
      }
      for (const e of (definition.entities ?? []) as EntitySchema[]) {
        (e.meta as { schema?: string }).schema = pluginSchema(id);
        entities.push(e);
      }
      if (entities.length) {
        this.k.orm.discoverEntity(entities);
        regs.add('entities', () => this.k.orm.discoverEntity([], entities.map((e) => e.meta.class)));
      }
      const state: PluginRuntimeState = {
        id, version: record.version, manifest: pkg.manifest, capabilities: record.grantedCapabilities, schema: pluginSchema(id),
        settings: validateSettings(pkg.manifest, record.settings), settingsListeners: new Set(),
      };
      const ctx = createPluginContext(this.k, state, regs, this.services);
      await definition.setup(ctx);
      this.active.set(id, { record, definition, regs, state, entities });
      this.k.authenticator.invalidateAll();
      if (mode === 'follow' || (mode === 'restart' && record.state === 'enabled' && !record.lastError)) return;
      await this.updateRecord(id, { state: 'enabled', lastError: null });
      await this.audit('plugin.enable', id, 'success', { version: record.version });
      await this.publish('plugin.enabled', { id, version: record.version });
    } catch (err) {
      await regs.undoAll();
      this.k.authenticator.invalidateAll();
      if (mode === 'follow') throw err;
      const message = fromForeignProblem(err)?.message ?? (err as Error).message ?? String(err);
      await this.updateRecord(id, { state: 'failed', lastError: errorText(err) }).catch(() => undefined);
      await this.audit('plugin.failed', id, 'failure', { version: record.version, error: message });
      this.k.log.warn({ plugin: id, err }, 'plugin failed to start');
      throw err;
    }
  }

  private async deactivate(id: string, reason: TeardownInfo['reason']): Promise<void> {
    const a = this.active.get(id);
    if (!a) return;
    this.active.delete(id);
    const errors = await a.regs.undoAll();
    try {
      await a.definition.teardown?.({ reason });
    } catch (err) {
      errors.push({ what: 'teardown', error: err });
    }
    for (const e of errors) this.k.log.warn({ plugin: id, what: e.what, err: e.error }, 'undoing a plugin registration failed');
    this.k.authenticator.invalidateAll();
    if (!this.following) await this.audit('plugin.disable', id, 'success', { version: a.record.version, undone: errors.length === 0 });
  }

  private async grantToBuiltinRoles(permission: string, roles: string[]): Promise<void> {
    // At start most grants survive from the last run: skip the write when every role has it already.
    if (this.bootGrants && roles.every((r) => this.bootGrants!.get(r)?.has(permission))) return;
    await this.em().execute(
      `update role set permissions = permissions || ?::jsonb where builtin and key in (${roles.map(() => '?').join(',')}) and not jsonb_exists(permissions, ?)`,
      [JSON.stringify([permission]), ...roles, permission],
    );
  }

  private async revokeFromBuiltinRoles(permission: string): Promise<void> {
    // A shutdown is not a disable: the grant stays for the next start. A followed change was written where it was made.
    if (this.shuttingDown || this.following) return;
    await this.em().execute('update role set permissions = permissions - ? where builtin and jsonb_exists(permissions, ?)', [permission, permission]);
  }

  /** A plugin's route, tap or subscriber threw: remember it (visible in the API) and audit it, at most once a minute. */
  recordError(owner: string, where: string, error: unknown): Promise<void> {
    const id = owner.startsWith('plugin:') ? owner.slice(7) : owner;
    if (!this.active.has(id)) return Promise.resolve();
    this.k.log.error({ plugin: id, where, err: error }, 'plugin error');
    const jobs: Array<Promise<unknown>> = [
      this.em().execute('update plugin set last_error = ?, error_count = error_count + 1, updated_at = now() where id = ?', [`${where}: ${errorText(error)}`, id]),
    ];
    const last = this.lastErrorAudit.get(id) ?? 0;
    if (this.k.now() - last > 60_000) {
      this.lastErrorAudit.set(id, this.k.now());
      jobs.push(this.audit('plugin.error', id, 'failure', { where, error: (error as Error)?.message ?? String(error) }));
    }
    return Promise.all(jobs).then(
      () => undefined,
      (err) => this.k.log.warn({ err, plugin: id }, 'could not record a plugin error'),
    );
  }

  private async insertRecord(pkg: PluginPackage, o: { source: 'registry' | 'local'; location: string; integrity: string | null; capabilities: string[] }): Promise<PluginRecord> {
    await this.em().execute(
      `insert into plugin (id, package_name, version, source, location, integrity, state, manifest, granted_capabilities, settings)
       values (?, ?, ?, ?, ?, ?, 'enabled', ?::jsonb, ?::jsonb, ?::jsonb)`,
      [pkg.manifest.id, pkg.name, pkg.version, o.source, o.location, o.integrity, JSON.stringify(pkg.manifest), JSON.stringify(o.capabilities), JSON.stringify(validateSettings(pkg.manifest, {}))],
    );
    this.changed.add(pkg.manifest.id);
    await this.audit('plugin.install', pkg.manifest.id, 'success', { package: pkg.name, version: pkg.version, source: o.source, capabilities: o.capabilities, integrity: o.integrity });
    return this.get(pkg.manifest.id);
  }

  private async updateRecord(id: string, changes: Partial<Pick<PluginRecord, 'version' | 'location' | 'integrity' | 'state' | 'manifest' | 'grantedCapabilities' | 'settings' | 'lastError'>>): Promise<void> {
    this.changed.add(id);
    const cols: Record<string, [string, unknown]> = {
      version: ['version = ?', changes.version],
      location: ['location = ?', changes.location],
      integrity: ['integrity = ?', changes.integrity],
      state: ['state = ?', changes.state],
      manifest: ['manifest = ?::jsonb', changes.manifest && JSON.stringify(changes.manifest)],
      grantedCapabilities: ['granted_capabilities = ?::jsonb', changes.grantedCapabilities && JSON.stringify(changes.grantedCapabilities)],
      settings: ['settings = ?::jsonb', changes.settings && JSON.stringify(changes.settings)],
      lastError: ['last_error = ?', changes.lastError],
    };
    const set: string[] = [];
    const params: unknown[] = [];
    for (const key of Object.keys(changes) as Array<keyof typeof cols>) {
      set.push(cols[key]![0]);
      params.push(cols[key]![1] ?? null);
    }
    if (!set.length) return;
    await this.em().execute(`update plugin set ${set.join(', ')}, updated_at = now() where id = ?`, [...params, id]);
  }

  private async audit(action: string, id: string, outcome: 'success' | 'failure', details: Record<string, unknown>): Promise<void> {
    await this.em().transactional((tem) =>
      appendAudit(tem as unknown as Em, { actorType: 'system', actorId: 'plugin-host', actorLabel: 'plugin host', action, target: `plugin:${id}`, outcome, details }),
    );
  }

  /**
   * Lifecycle events go to every logged-in socket (they carry only the plugin
   * id and version), so each user's shell adds or removes the plugin's panels live.
   */
  private async publish(type: string, payload: Record<string, unknown>): Promise<void> {
    await this.em().transactional((tem) => writeOutbox(tem as unknown as Em, type, payload, {}));
    void this.k.events.drain();
  }
}

export type { RegistryRelease };
