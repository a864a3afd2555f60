import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMFLUX_NODE_FLAGS } from '../../../scripts/lib/node-flags.js';
import { findBinary } from '../../../scripts/lib/servers.js';
import { SYSTEMD_ANALYZE_MISSING } from '../../support/systemd-analyze.js';

const UNIT = resolve(import.meta.dirname, '../../../systemd/promflux.service');

describe('systemd/promflux.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const directive = (name: string): string[] =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}=`))
      .map((l) => l.slice(name.length + 1));

  it('runs the daemon hardened, restarting on failure but not on a bad config', () => {
    // Node's flags between node and the script: tests/unit/deploy/node-flags.test.ts.
    expect(directive('ExecStart')).toEqual([
      `/usr/bin/node ${PROMFLUX_NODE_FLAGS.join(' ')} /opt/promflux/bin/promflux.js run`,
    ]);
    expect(directive('Restart')).toEqual(['on-failure']);
    expect(directive('RestartPreventExitStatus')).toEqual(['2']);
    expect(directive('StateDirectory')).toEqual(['promflux']);
    expect(directive('ProtectSystem')).toEqual(['strict']);
    expect(directive('NoNewPrivileges')).toEqual(['yes']);
    // Longer than the default pipeline.shutdown_grace (30s), so SIGTERM can finish a cycle.
    expect(Number.parseInt(directive('TimeoutStopSec')[0]!, 10)).toBeGreaterThan(30);
  });

  it('passes systemd-analyze verify', () => {
    const analyze = findBinary('systemd-analyze');
    expect(analyze, SYSTEMD_ANALYZE_MISSING).toBeDefined();
    const run = spawnSync(analyze!, ['verify', '--man=no', UNIT], { encoding: 'utf8' });
    expect(run.stderr.trim()).toBe(''); // warnings such as unknown keys go here
    expect(run.status).toBe(0);
  });
});
