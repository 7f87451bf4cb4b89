import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pacote from 'pacote';
import semver from 'semver';
import { ProblemError } from '../errors/problem.js';
import { parsePluginPackage, type PluginPackage } from './manifest.js';

const run = promisify(execFile);

/** What the registry says about one version of a plugin, before anything is downloaded. */
export interface RegistryRelease {
  package: PluginPackage;
  integrity: string;
  tarball: string;
  versions: string[];
}

export interface CatalogEntry {
  name: string;
  version: string;
  description: string;
  keywords: string[];
}

/**
 * Talks to the configured npm registry with npm's own machinery (pacote):
 * reads package metadata, searches, and extracts a tarball while checking it
 * against the integrity the admin approved.
 */
export class RegistryClient {
  constructor(
    private readonly registry: string,
    private readonly cacheDir: string,
  ) {}

  private opts() {
    return { registry: `${this.registry}/`, cache: this.cacheDir, fullMetadata: true, preferOnline: true };
  }

  /** Resolves `name@range` (default: latest) and validates the manifest. */
  async release(name: string, range?: string): Promise<RegistryRelease> {
    if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(name)) {
      throw new ProblemError('validation-failed', `"${name}" is not an npm package name`, { errors: [{ pointer: '/body/package', message: 'is not an npm package name' }] });
    }
    let packument: Awaited<ReturnType<typeof pacote.packument>>;
    try {
      packument = await pacote.packument(name, this.opts());
    } catch (err) {
      const code = (err as { code?: string; statusCode?: number }).code;
      if (code === 'E404') throw new ProblemError('not-found', `The registry has no package "${name}"`);
      throw new ProblemError('registry-unavailable', `The registry at ${this.registry} did not answer: ${(err as Error).message}`);
    }
    const versions = Object.keys(packument.versions ?? {}).filter((v) => semver.valid(v)).sort(semver.rcompare);
    const version = range ? semver.maxSatisfying(versions, range) : (packument['dist-tags']?.latest ?? versions[0]);
    if (!version || !packument.versions[version]) throw new ProblemError('not-found', `No version of ${name} matches "${range ?? 'latest'}" (have: ${versions.join(', ') || 'none'})`);
    const meta = packument.versions[version] as unknown as Record<string, any>;
    const integrity = meta.dist?.integrity as string | undefined;
    if (!integrity) throw new ProblemError('plugin-integrity', `${name}@${version} has no integrity hash in the registry; refusing to install it`);
    return { package: parsePluginPackage(meta), integrity, tarball: meta.dist.tarball, versions };
  }

  /**
   * Packages tagged with the `mpanel-plugin` keyword, optionally matching a
   * text. npm's search understands `keywords:`; Verdaccio doesn't, so when
   * that finds nothing the plain text search is filtered by keyword here.
   */
  async search(text: string): Promise<CatalogEntry[]> {
    const query = async (q: string) => {
      const url = `${this.registry}/-/v1/search?text=${encodeURIComponent(q)}&size=250`;
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      } catch (err) {
        throw new ProblemError('registry-unavailable', `The registry at ${this.registry} did not answer: ${(err as Error).message}`);
      }
      if (!res.ok) throw new ProblemError('registry-unavailable', `The registry answered ${res.status} to a search`);
      const body = (await res.json()) as { objects?: Array<{ package: { name: string; version?: string; 'dist-tags'?: Record<string, string>; description?: string; keywords?: string[] } }> };
      return (body.objects ?? [])
        // npm sends `version`; Verdaccio only `dist-tags`.
        .map((o) => ({ name: o.package.name, version: o.package.version ?? o.package['dist-tags']?.latest ?? '', description: o.package.description ?? '', keywords: o.package.keywords ?? [] }))
        .filter((p) => p.keywords.includes('mpanel-plugin'));
    };
    const tagged = await query(`keywords:mpanel-plugin${text ? ` ${text}` : ''}`);
    return tagged.length > 0 ? tagged : query(text);
  }

  /**
   * Extracts `name@version` into `dest`, failing with `plugin-integrity` if the
   * tarball does not match `integrity`, then installs its own runtime
   * dependencies (never scripts, never dev dependencies).
   */
  async extract(release: RegistryRelease, dest: string): Promise<void> {
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    try {
      await pacote.extract(`${release.package.name}@${release.package.version}`, dest, { ...this.opts(), integrity: release.integrity });
    } catch (err) {
      fs.rmSync(dest, { recursive: true, force: true });
      if ((err as { code?: string }).code === 'EINTEGRITY') {
        throw new ProblemError('plugin-integrity', `The tarball of ${release.package.name}@${release.package.version} does not match the integrity ${release.integrity}; it was not installed`);
      }
      throw new ProblemError('registry-unavailable', `Downloading ${release.package.name}@${release.package.version} failed: ${(err as Error).message}`);
    }
    if (Object.keys(release.package.dependencies).length > 0) {
      try {
        await run('npm', ['install', '--omit=dev', '--omit=peer', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', `--registry=${this.registry}/`, `--cache=${this.cacheDir}`], { cwd: dest, timeout: 120_000 });
      } catch (err) {
        fs.rmSync(dest, { recursive: true, force: true });
        throw new ProblemError('registry-unavailable', `Installing the dependencies of ${release.package.name} failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
}
