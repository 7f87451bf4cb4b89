import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// One implementation for tests and benchmarks: test/support/registry.mjs.
export { startRegistry, writePluginPackage, generatedPlugin, type TestRegistry } from '../../../test/support/registry.mjs';

/** A copy of examples/hello (built) at another version, optionally with extra migrations appended. */
export function helloAtVersion(version: string, extraMigrationsJs = ''): string {
  const src = path.resolve(import.meta.dirname, '../../../examples/hello');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-hello-'));
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
  pkg.version = version;
  delete pkg.devDependencies;
  delete pkg.scripts;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.cpSync(path.join(src, 'dist'), path.join(dir, 'dist'), { recursive: true });
  if (extraMigrationsJs) {
    const index = path.join(dir, 'dist', 'migrations', 'index.js');
    fs.writeFileSync(index, `${fs.readFileSync(index, 'utf8')}\n${extraMigrationsJs}\n`);
  }
  return dir;
}
