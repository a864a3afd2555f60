/**
 * How the deployments start promflux, read from their own files: the systemd unit's ExecStart and
 * the container's ENTRYPOINT + CMD, each split into the node binary, node's flags, the script and
 * promflux's arguments.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execForm, instructions, parseDockerfile } from './dockerfile.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface NodeCommand {
  node: string;
  nodeFlags: string[];
  script: string;
  args: string[];
}

/** `node [--flag ...] script [args ...]`: node's own flags are the options before the script. */
export function splitNodeCommand(argv: readonly string[]): NodeCommand {
  const [node, ...rest] = argv;
  const scriptAt = rest.findIndex((a) => !a.startsWith('-'));
  if (node === undefined || scriptAt < 0) {
    throw new Error(`not a node command with a script: ${JSON.stringify(argv)}`);
  }
  return {
    node,
    nodeFlags: rest.slice(0, scriptAt),
    script: rest[scriptAt]!,
    args: rest.slice(scriptAt + 1),
  };
}

/** systemd/promflux.service's one ExecStart (space-separated, no quoting in this unit). */
export function unitCommand(): NodeCommand {
  const unit = readFileSync(join(REPO_ROOT, 'systemd/promflux.service'), 'utf8');
  const lines = unit.split('\n').filter((l) => l.startsWith('ExecStart='));
  if (lines.length !== 1) throw new Error(`expected one ExecStart, found ${lines.length}`);
  return splitNodeCommand(lines[0]!.slice('ExecStart='.length).trim().split(/\s+/));
}

/** The Dockerfile's final stage: ENTRYPOINT followed by CMD, as `docker run IMAGE` starts it. */
export function containerCommand(): NodeCommand {
  const runtime = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')).at(-1)!;
  const argv = (['ENTRYPOINT', 'CMD'] as const).flatMap((keyword) => {
    const found = instructions(runtime, keyword);
    if (found.length !== 1) throw new Error(`expected one ${keyword}, found ${found.length}`);
    return execForm(found[0]!.args);
  });
  return splitNodeCommand(argv);
}
