import { spawnSync } from 'node:child_process';
import { CliError } from './errors.js';

/** `--install`: runs npm in the new directory, showing its output as it goes. */
export function npmInstall(dir: string): void {
  // npm is npm.cmd on Windows, which only runs through a shell.
  const result = spawnSync('npm', ['install'], { cwd: dir, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) throw new CliError(`Could not run npm install: ${result.error.message}`, 1);
  if (result.status !== 0) throw new CliError(`npm install failed (exit code ${result.status}); the plugin's files are in place, fix the problem and run it again`, 1);
}
