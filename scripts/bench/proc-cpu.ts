/**
 * CPU seconds of the server processes (Prometheus, InfluxDB, VictoriaMetrics) from /proc, so each
 * phase can say who was busy: on a 2-core machine a slow phase is either CPU-bound somewhere or
 * waiting. The servers are found by their temp dir, which appears in their command line.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** The pid of the (one) process whose command line contains `needle`, or undefined. */
export function findPid(needle: string): number | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

/** user + system CPU seconds of `pid` so far (undefined when it cannot be read). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Measures the CPU a set of processes spends between `start()` and `stop()`. */
export class CpuMeter {
  private readonly startValues = new Map<string, number | undefined>();

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {}

  start(): void {
    for (const [name, pid] of Object.entries(this.pids))
      this.startValues.set(name, cpuSeconds(pid));
  }

  /** CPU seconds per process name since `start()`; null when unknown. */
  stop(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.startValues.get(name);
      const after = cpuSeconds(pid);
      out[name] = before === undefined || after === undefined ? null : after - before;
    }
    return out;
  }
}
