import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScaffolder, linkDependencies, listFiles, npmRun, PACKAGE_DIR, REPO_ROOT, runBin, tempDir } from './helpers/generated-plugin.js';

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('create-mpanel-plugin', () => {
  let cwd: string;
  beforeAll(() => {
    buildScaffolder();
    cwd = tempDir('mpanel-scaffold-');
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  describe('command line', () => {
    it('--help prints the usage and exits 0', () => {
      const r = runBin(cwd, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: npm create mpanel-plugin <name>');
      expect(r.stdout).toContain('--scope');
      expect(fs.readdirSync(cwd)).toEqual([]);
    });

    it.each([
      ['Bad_Name', 'Invalid plugin name "Bad_Name"'],
      ['x', 'Invalid plugin name "x"'],
      ['1abc', 'Invalid plugin name "1abc"'],
      [`a${'b'.repeat(50)}`, 'Invalid plugin name'],
      ['some/path', 'is a path'],
    ])('refuses the name %s with exit code 2', (name, message) => {
      const r = runBin(cwd, [name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('create-mpanel-plugin:');
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(fs.readdirSync(cwd)).toEqual([]);
    });

    it.each([
      [[], 'Missing the plugin name'],
      [['a1', 'b2'], 'Expected one plugin name'],
      [['okname', '--bogus'], "Unknown option '--bogus'"],
      [['okname', '--scope', 'Not A Scope'], 'Invalid scope'],
      [['okname', '--description', ''], '--description must not be empty'],
      [['okname', '--install', '--no-install'], 'either --install or --no-install'],
    ])('exits 2 on bad usage %j', (args, message) => {
      const r = runBin(cwd, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(fs.readdirSync(cwd)).toEqual([]);
    });

    it('refuses a directory that exists and is not empty, and leaves it alone', () => {
      const dir = path.join(cwd, 'taken');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      const r = runBin(cwd, ['taken']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('"taken" exists and is not empty');
      expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
      fs.rmSync(dir, { recursive: true });
    });

    it('uses an existing empty directory and drops the mpanel-plugin- prefix from the id', () => {
      fs.mkdirSync(path.join(cwd, 'mpanel-plugin-empty-ok'));
      const r = runBin(cwd, ['mpanel-plugin-empty-ok']);
      expect(r.code).toBe(0);
      const pkg = readJson(path.join(cwd, 'mpanel-plugin-empty-ok', 'package.json'));
      expect(pkg.name).toBe('mpanel-plugin-empty-ok');
      expect(pkg.mpanel.id).toBe('empty-ok');
      fs.rmSync(path.join(cwd, 'mpanel-plugin-empty-ok'), { recursive: true });
    });
  });

  it('publishes its bin and the whole template (npm drops files named .gitignore, hence _gitignore)', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: PACKAGE_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    const pkg = readJson(path.join(PACKAGE_DIR, 'package.json'));
    expect(files).toContain(pkg.bin['create-mpanel-plugin']);
    const template = listFiles(path.join(PACKAGE_DIR, 'template')).map((f) => `template/${f}`);
    expect(files).toEqual(expect.arrayContaining(template));
    expect(template).toContain('template/_gitignore');
  });

  describe('a generated plugin', () => {
    const description = 'Keeps "quoted" things — and \\ backslashes';
    let dir: string;
    let out: string;
    beforeAll(() => {
      const r = runBin(cwd, ['acme-demo', '--scope', '@acme', '--description', description]);
      out = r.stdout;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      dir = path.join(cwd, 'acme-demo');
    });

    it('prints the next steps and installs nothing by default', () => {
      expect(out).toContain('Next steps:');
      expect(out).toContain('cd acme-demo');
      expect(out).toContain('npm install');
      expect(fs.existsSync(path.join(dir, 'node_modules'))).toBe(false);
    });

    it('has the shape of every plugin, with every placeholder filled', () => {
      const files = listFiles(dir);
      expect(files).toEqual(expect.arrayContaining([
        '.gitignore', 'README.md', 'package.json', 'tsconfig.json', 'src/index.ts', 'src/migrations/0001-init.ts',
        'src/entities/item.ts', 'src/routes/items.ts', 'src/ui/index.js', 'test/plugin.test.ts',
      ]));
      for (const f of files) expect(fs.readFileSync(path.join(dir, f), 'utf8'), f).not.toMatch(/\{\{\w+\}\}/);
      expect(fs.readFileSync(path.join(dir, 'src/ui/index.js'), 'utf8')).toMatch(/export function install\(shell\)/);
      expect(fs.readFileSync(path.join(dir, 'test/plugin.test.ts'), 'utf8')).toContain("from '@mpanel/sdk/testing'");
    });

    it('writes a package.json with a valid manifest and the repository’s versions', () => {
      const pkg = readJson(path.join(dir, 'package.json'));
      const sdk = readJson(path.join(REPO_ROOT, 'sdk/package.json'));
      const core = readJson(path.join(REPO_ROOT, 'core/package.json'));
      const root = readJson(path.join(REPO_ROOT, 'package.json'));
      expect(pkg).toMatchObject({
        name: '@acme/mpanel-plugin-acme-demo', description, type: 'module', main: 'dist/index.js', files: ['dist'], keywords: ['mpanel-plugin'],
        peerDependencies: { '@mpanel/sdk': `^${sdk.version}` },
        devDependencies: {
          '@mpanel/sdk': sdk.version, '@mpanel/core': core.version,
          typescript: root.devDependencies.typescript, vitest: root.devDependencies.vitest, '@types/node': root.devDependencies['@types/node'],
        },
      });
      expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['build', 'test']));
      const m = pkg.mpanel;
      expect(m).toMatchObject({ id: 'acme-demo', displayName: 'Acme Demo', description, sdk: `^${sdk.version}`, ui: 'dist/ui/index.js' });
      expect(m.permissions.map((p: { name: string }) => p.name)).toContain('acme-demo.read');
      expect(m.settings.type).toBe('object');
      expect(m.contributes.panels.length).toBe(1);
      expect(m.contributes.menu.length).toBe(1);
      // The schema the SDK publishes, as a third-party tool would use it.
      const schema = readJson(path.join(REPO_ROOT, 'sdk/dist/manifest.schema.json'));
      const validate = new Ajv2020({ strict: false }).compile(schema);
      expect(validate(m), JSON.stringify(validate.errors)).toBe(true);
    });

    it('has a standalone tsconfig', () => {
      const ts = readJson(path.join(dir, 'tsconfig.json'));
      expect(ts.extends).toBeUndefined();
      expect(ts.compilerOptions.outDir).toBe('dist');
    });

    it('builds, and its own test passes against a real panel', async () => {
      linkDependencies(dir);
      await npmRun(dir, 'build');
      expect(fs.existsSync(path.join(dir, 'dist/index.js'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'dist/ui/index.js'))).toBe(true);
      const output = await npmRun(dir, 'test');
      expect(output).toMatch(/Tests\s+4 passed/);
    }, 300_000);
  });
});
