/**
 * podman for the container test: scripts/container-test.sh installs and configures it and builds
 * the image; every call here uses the private containers.conf that script wrote.
 */
import { join } from 'node:path';
import { runChild, type ChildRun } from './child-process.js';

export interface Podman {
  /** The promflux image the script built. */
  image: string;
  /** `podman ARGS`, whatever its exit status. */
  run(args: string[]): Promise<ChildRun>;
  /** `podman ARGS`; throws with its output unless it exits 0. Resolves to stdout, trimmed. */
  ok(args: string[]): Promise<string>;
}

/** Runs scripts/container-test.sh (install, configure, build) and returns podman set up by it. */
export async function preparePodman(repo: string): Promise<Podman> {
  const prepared = await runChild('bash', [join(repo, 'scripts/container-test.sh')]);
  const ready = /^CONTAINERS_CONF=(\S+) IMAGE=(\S+)$/m.exec(prepared.stdout);
  if (prepared.status !== 0 || !ready) {
    throw new Error(
      `scripts/container-test.sh failed (exit ${prepared.status}):\n${tail(prepared.stderr)}`,
    );
  }
  const env = { ...process.env, CONTAINERS_CONF: ready[1]! };
  const run = (args: string[]): Promise<ChildRun> => runChild('podman', args, { env });
  return {
    image: ready[2]!,
    run,
    async ok(args) {
      const result = await run(args);
      if (result.status !== 0) {
        throw new Error(
          `podman ${args.join(' ')} exited ${result.status}:\n${tail(result.stdout + result.stderr)}`,
        );
      }
      return result.stdout.trim();
    },
  };
}

function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
