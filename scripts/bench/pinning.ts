/**
 * CPU pinning for the "never the bottleneck" measurement: the sink alone on one core, everything
 * else (Prometheus, the bench with its ceiling writer, promflux, which inherits the bench's
 * affinity) on the others. With the sink on its own core, a ratio below 1 can only mean the sink
 * sat idle waiting for promflux, which is what the target is about; unpinned, both cores are
 * shared and the ratio measures how much CPU the other processes take away from the sink.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface PinLayout {
  /** taskset CPU lists. */
  sink: string;
  rest: string;
  all: string;
}

/** The layout for this machine, or why pinning is not possible here. */
export function pinLayout(cpuCount = os.cpus().length): PinLayout | { unavailable: string } {
  if (process.platform !== 'linux') return { unavailable: 'CPU pinning needs Linux (taskset)' };
  if (cpuCount < 2) {
    return { unavailable: `the machine has ${cpuCount} core: pinning needs at least two` };
  }
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return { unavailable: 'taskset (util-linux) is not installed' };
  }
  const last = cpuCount - 1;
  return { sink: '0', rest: last === 1 ? '1' : `1-${last}`, all: `0-${last}` };
}

/** Sets the affinity of every thread of `pid` (a server's Go threads included). */
export function pin(pid: number | undefined, cpus: string): void {
  if (pid === undefined) throw new Error('cannot pin a process whose pid is unknown');
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
