import { resolve } from 'node:path';
import { runChild } from './child-process.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs `body` (an async ES module body; `src` is the repository's src/ path for imports) in a
 * fresh Node process whose umask is `umask`: the umask is process-wide, so a test never changes
 * its own. Rejects with the child's stderr when it fails.
 */
export async function runWithUmask(umask: number, body: string): Promise<void> {
  const code = `process.umask(${umask});\nconst src = ${JSON.stringify(resolve(REPO_ROOT, 'src'))};\n${body}`;
  const run = await runChild(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: REPO_ROOT },
  );
  if (run.status !== 0) throw new Error(`child exited ${run.status}: ${run.stderr}`);
}
