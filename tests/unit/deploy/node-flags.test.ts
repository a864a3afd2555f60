/**
 * One list of Node flags for production (scripts/lib/node-flags.ts): the systemd unit, the
 * container and the bench (which must measure promflux as deployed) all start node with exactly it.
 * tests/integration/node-flags.test.ts checks that a promflux started that way really has the
 * smaller young generation.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promfluxNodeArgs } from '../../../scripts/bench/promflux-run.js';
import { PROMFLUX_NODE_FLAGS, semiSpaceMiB } from '../../../scripts/lib/node-flags.js';
import { containerCommand, splitNodeCommand, unitCommand } from '../../support/deploy-commands.js';

describe('production Node flags', () => {
  it('cap the young generation with --max-semi-space-size', () => {
    expect(semiSpaceMiB()).toBe(4);
    expect(semiSpaceMiB(['--max-semi-space-size=16'])).toBe(16);
    expect(semiSpaceMiB(['--max-old-space-size=4'])).toBeUndefined();
  });

  it.each([
    ['the systemd unit ExecStart', unitCommand, '/usr/bin/node', '/opt/promflux/bin/promflux.js'],
    ['the container ENTRYPOINT', containerCommand, 'node', '/app/bin/promflux.js'],
  ])('are the flags of %s, before the script', (_, command, node, script) => {
    expect(command()).toEqual({ node, nodeFlags: PROMFLUX_NODE_FLAGS, script, args: ['run'] });
  });

  it('are in every command docs/CONTAINER.md gives to replace the entry point', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/CONTAINER.md'), 'utf8');
    const commands = [...doc.matchAll(/\bnode((?: --\S+)*) \/app\/bin\/promflux\.js\b/g)];
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const [command, flags] of commands) {
      expect(flags!.trim().split(' '), command).toEqual(PROMFLUX_NODE_FLAGS);
    }
  });

  it('are what the bench runs promflux with, a CPU profile after them', () => {
    expect(promfluxNodeArgs()).toEqual(PROMFLUX_NODE_FLAGS);
    expect(promfluxNodeArgs('/tmp/prof')).toEqual([
      ...PROMFLUX_NODE_FLAGS,
      '--cpu-prof',
      '--cpu-prof-dir=/tmp/prof',
    ]);
  });

  it('are told apart from the script and its arguments', () => {
    expect(splitNodeCommand(['node', '--a=1', '--b', 'x.js', 'run', '--once'])).toEqual({
      node: 'node',
      nodeFlags: ['--a=1', '--b'],
      script: 'x.js',
      args: ['run', '--once'],
    });
    expect(() => splitNodeCommand(['node', '--a=1'])).toThrow(/not a node command/);
  });
});
