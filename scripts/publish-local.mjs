// `npm run publish:local`: builds everything and publishes the SDK and every
// package under plugins/ and examples/ to the local registry with lerna.
// Creates (or logs in) the user "mpanel" to get a token; nothing is written
// to your ~/.npmrc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const registry = (process.env.MPANEL_REGISTRY ?? 'http://127.0.0.1:4873').replace(/\/+$/, '');
const user = process.env.REGISTRY_USER ?? 'mpanel';
const password = process.env.REGISTRY_PASSWORD ?? 'mpanel-local-registry';

async function token() {
  const res = await fetch(`${registry}/-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    body: JSON.stringify({ name: user, password }),
  }).catch((err) => {
    throw new Error(`the registry at ${registry} does not answer (start it with \`npm run registry\`): ${err.message}`);
  });
  const body = await res.json();
  if (!body.token) throw new Error(`the registry refused user "${user}": ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

const auth = await token();
const npmrc = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-publish-')), '.npmrc');
const host = registry.replace(/^https?:/, '');
fs.writeFileSync(npmrc, `registry=${registry}/\n${host}/:_authToken=${auth}\n`, { mode: 0o600 });
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
execFileSync(path.join(root, 'node_modules', '.bin', 'lerna'), ['publish', 'from-package', '--yes', '--registry', `${registry}/`, '--no-verify-access'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NPM_CONFIG_USERCONFIG: npmrc, NPM_CONFIG_REGISTRY: `${registry}/` },
});
fs.rmSync(path.dirname(npmrc), { recursive: true, force: true });
