import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScaffolder, linkDependencies, npmRun, REPO_ROOT, runBin, tempDir } from './helpers/generated-plugin.js';
import { applyBlocks, fileBlocks } from './helpers/tutorial-blocks.js';

const TUTORIAL = path.join(REPO_ROOT, 'docs/plugins/tutorial.md');

/**
 * Keeps docs/plugins/tutorial.md true: scaffold with the tutorial's own
 * command, write the code blocks it marks as files, build, run the tests.
 */
describe('docs/plugins/tutorial.md', () => {
  const markdown = fs.readFileSync(TUTORIAL, 'utf8');
  const blocks = fileBlocks(markdown);
  let cwd: string;
  beforeAll(() => {
    buildScaffolder();
    cwd = tempDir('mpanel-tutorial-');
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('marks the files a reader writes, including a test', () => {
    const files = blocks.map((b) => (b.key ? `${b.file}#${b.key}` : b.file));
    expect(files).toEqual(expect.arrayContaining(['package.json#mpanel', 'src/index.ts', 'src/ui/index.js']));
    expect(files.some((f) => f.startsWith('src/migrations/'))).toBe(true);
    expect(files.some((f) => f.startsWith('src/routes/'))).toBe(true);
    expect(files.some((f) => /^test\/.+\.test\.ts$/.test(f))).toBe(true);
  });

  it('builds, and the plugin passes its tests against a real panel', async () => {
    // The scaffold command exactly as the tutorial shows it (npm hands what follows `--` to the bin).
    const command = /^npm create mpanel-plugin (.+)$/m.exec(markdown);
    expect(command, 'the tutorial shows `npm create mpanel-plugin …`').toBeTruthy();
    const args = [...command![1]!.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).filter((a) => a !== '--');
    const created = runBin(cwd, args);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const dir = path.join(cwd, args[0]!);

    applyBlocks(dir, blocks);
    linkDependencies(dir);
    await npmRun(dir, 'build');
    const output = await npmRun(dir, 'test');
    // The scaffolded test and the tutorial's own both run, and nothing is skipped.
    const testFiles = blocks.filter((b) => b.file.startsWith('test/')).length + 1;
    expect(output).toMatch(new RegExp(`Test Files\\s+${testFiles} passed \\(${testFiles}\\)`));
    expect(output).not.toMatch(/skipped|failed/);
  }, 300_000);
});
