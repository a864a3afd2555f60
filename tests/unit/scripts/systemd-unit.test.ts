import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = resolve(import.meta.dirname, '../../../systemd/promflux.service');

describe('systemd/promflux.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const directive = (name: string): string[] =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}=`))
      .map((l) => l.slice(name.length + 1));

  it('runs the daemon hardened, restarting on failure but not on a bad config', () => {
    expect(directive('ExecStart')).toEqual(['/usr/bin/node /opt/promflux/bin/promflux.js run']);
    expect(directive('Restart')).toEqual(['on-failure']);
    expect(directive('RestartPreventExitStatus')).toEqual(['2']);
    expect(directive('StateDirectory')).toEqual(['promflux']);
    expect(directive('ProtectSystem')).toEqual(['strict']);
    expect(directive('NoNewPrivileges')).toEqual(['yes']);
    // Longer than the default pipeline.shutdown_grace (30s), so SIGTERM can finish a cycle.
    expect(Number.parseInt(directive('TimeoutStopSec')[0]!, 10)).toBeGreaterThan(30);
  });

  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  it(`passes systemd-analyze verify (${analyze ?? 'not installed: directives checked above'})`, () => {
    if (!analyze) return;
    const run = spawnSync(analyze, ['verify', '--man=no', join(UNIT)], { encoding: 'utf8' });
    expect(run.stderr.trim()).toBe(''); // warnings such as unknown keys go here
    expect(run.status).toBe(0);
  });
});
