// Runs the promflux CLI exactly as bin/promflux.js does (dist/cli/main.js, same argv) and, when the
// process exits, writes its own resource usage as JSON to $PROMFLUX_BENCH_USAGE:
//   wall_seconds_main / cpu_*_main: around main() only (module loading excluded);
//   cpu_*_process / max_rss_kb (VmHWM): the whole process (what the kernel charges to promflux);
//   peak_*_mb: process.memoryUsage() sampled every 100 ms (what the RSS is made of: JS heap vs
//   Buffers), a negligible cost next to the work measured.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const usagePath = process.env.PROMFLUX_BENCH_USAGE;

// Peak RSS of this process image: VmHWM. Not getrusage's maxRSS: Linux carries the parent's
// high-water mark over fork + exec, so a child of a bench holding 2 GB of lines "peaks" at 2 GB.
function peakRssKb() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS;
}
const { main } = await import('../../dist/cli/main.js');

const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rss: 0 };
const sampleMemory = () => {
  const m = process.memoryUsage();
  for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], m[key]);
};
const sampler = setInterval(sampleMemory, 100);
sampler.unref();

const before = process.resourceUsage();
const t0 = performance.now();
let t1 = t0;
let after = before;

if (usagePath) {
  process.on('exit', (code) => {
    sampleMemory();
    const atExit = process.resourceUsage();
    writeFileSync(
      usagePath,
      JSON.stringify({
        exit_code: code,
        wall_seconds_main: (t1 - t0) / 1000,
        cpu_user_seconds_main: (after.userCPUTime - before.userCPUTime) / 1e6,
        cpu_system_seconds_main: (after.systemCPUTime - before.systemCPUTime) / 1e6,
        cpu_user_seconds_process: atExit.userCPUTime / 1e6,
        cpu_system_seconds_process: atExit.systemCPUTime / 1e6,
        max_rss_kb: peakRssKb(),
        ru_maxrss_kb: atExit.maxRSS,
        uptime_seconds: process.uptime(),
        peak_heap_used_mb: peak.heapUsed / 2 ** 20,
        peak_heap_total_mb: peak.heapTotal / 2 ** 20,
        peak_external_mb: peak.external / 2 ** 20,
        peak_array_buffers_mb: peak.arrayBuffers / 2 ** 20,
        peak_sampled_rss_mb: peak.rss / 2 ** 20,
      }),
    );
  });
}

const code = await main(process.argv);
t1 = performance.now();
after = process.resourceUsage();
process.exitCode = code;
