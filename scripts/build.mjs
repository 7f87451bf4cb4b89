// Builds the workspaces in dependency order: the SDK, core, then every other
// package that has a build script (plugins and examples import the SDK).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { workspaces } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const dirs = [];
for (const pattern of workspaces) {
  if (pattern.endsWith('/*')) {
    const base = path.join(root, pattern.slice(0, -2));
    if (fs.existsSync(base)) for (const d of fs.readdirSync(base).sort()) dirs.push(path.join(base, d));
  } else dirs.push(path.join(root, pattern));
}
const first = ['sdk', 'core'].map((d) => path.join(root, d));
const order = [...first, ...dirs.filter((d) => !first.includes(d))];
for (const dir of order) {
  const pkgFile = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgFile)) continue;
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  if (!pkg.scripts?.build) continue;
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });
}
