/** The printed table and the target check of bench-results.json. */
import type { Writable } from 'node:stream';
import type { ProfileSummary } from './profile.js';
import type { BenchResults, RunResult, TierCost } from './results.js';
import { SINK_KINDS, SINK_LABEL, type SinkKind } from './sinks.js';
import { TIER_COST_TARGET, tierTargets } from './tier-cost.js';
import { PINNED_TARGET } from './cpu-split.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 2): string => n.toFixed(digits);
const pct = (n: number): string => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)}%`;
const mb = (n: number): string => n.toFixed(1);
const opt = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined ? '?' : n.toFixed(digits);

/** Left-aligned first column, right-aligned others. */
export function formatTable(headers: string[], rows: string[][], indent = '  '): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** One row per sink that has figures, labelled `→ <sink>`. */
function perSink<T>(
  bySink: Partial<Record<SinkKind, T>>,
  row: (figures: T) => string[],
): string[][] {
  return SINK_KINDS.flatMap((k) => {
    const figures = bySink[k];
    return figures ? [[`→ ${SINK_LABEL[k]}`, ...row(figures)]] : [];
  });
}

function samplesLabel(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(n % 1e6 ? 2 : 0)}M` : `${(n / 1e3).toFixed(0)}k`;
}

/** The largest run: the one the targets are judged on. */
/** How the bench ran promflux: `node <flags>`, or Node's defaults in results from before the flags. */
function nodeCommand(r: BenchResults): string {
  const flags = r.node_flags ?? [];
  return flags.length > 0 ? `node ${flags.join(' ')}` : "Node's default flags";
}

function lastRun(r: BenchResults): RunResult | undefined {
  return r.runs[r.runs.length - 1];
}

/** Peak RSS of every promflux end to end into `kind` in `run`, unpinned and pinned. */
export function e2ePeaks(run: RunResult, kind: SinkKind): number[] {
  return [...(run.sinks[kind]?.e2e ?? []), ...(run.pinned_sinks?.[kind]?.e2e ?? [])].map(
    (e) => e.process.max_rss_mb,
  );
}

export function evaluateTargets(r: BenchResults): NonNullable<BenchResults['targets']> {
  const out: NonNullable<BenchResults['targets']> = [];
  const run = lastRun(r);
  if (!run) return out;
  const at = `(${run.label})`;
  // Issue 17: with the sink alone on its core, promflux must keep it as busy as the minimal writer.
  const pinned = run.pinned_sinks;
  if (!pinned) {
    out.push({
      name: `pinned e2e ÷ pinned ceiling ${at}`,
      measured: r.pinning && 'unavailable' in r.pinning ? r.pinning.unavailable : 'not measured',
      target: `>= ${PINNED_TARGET}`,
      ok: false,
    });
  }
  for (const kind of SINK_KINDS) {
    const s = pinned?.[kind];
    if (!s) continue;
    out.push({
      name: `pinned e2e ÷ pinned ceiling, ${SINK_LABEL[kind]} ${at}`,
      measured: fixed(s.ratio),
      target: `>= ${PINNED_TARGET}`,
      ok: s.ratio >= PINNED_TARGET,
    });
  }
  // promflux's own work: its per-sample CPU (start-up cancelled out) less what the I/O alone costs.
  const marginal = r.marginal_cpu?.by_sink['influxdb-v1'];
  const floor = r.io_floor?.by_sink['influxdb-v1'];
  if (marginal && floor) {
    const above =
      marginal.cpu_seconds_per_million_samples - floor.floor_cpu_seconds_per_million_samples;
    out.push({
      name: `promflux CPU s per 1M above the I/O floor → InfluxDB 1.x (${r.marginal_cpu!.small_label}→${r.marginal_cpu!.large_label})`,
      measured: fixed(above, 3),
      target: '<= 0.3',
      ok: above <= 0.3,
    });
  }
  const rss = Math.max(...SINK_KINDS.flatMap((k) => e2ePeaks(run, k)));
  if (Number.isFinite(rss)) {
    out.push({
      name: `promflux peak RSS ${at}${run.range.samples < 10e6 ? ' (target is for 10M)' : ''}`,
      measured: `${mb(rss)} MB`,
      target: '<= 150 MB',
      ok: rss <= 150,
    });
  }
  const flat = r.memory_flatness;
  if (flat) {
    const growth = Math.max(...Object.values(flat.by_sink).map((s) => s.growth));
    if (Number.isFinite(growth)) {
      out.push({
        name: `peak RSS growth ${flat.small_label} → ${flat.large_label}`,
        measured: pct(growth),
        target: '<= +10%',
        ok: growth <= 0.1,
      });
    }
  }
  if (r.tier_cost) out.push(...tierTargets(r.tier_cost));
  if (r.decoder) {
    out.push({
      name: 'decoder ÷ JSON.parse (from bytes)',
      measured: `${fixed(r.decoder.ratio_vs_json_parse)}×`,
      target: '>= 3×',
      ok: r.decoder.ratio_vs_json_parse >= 3,
    });
  }
  return out;
}

export function printReport(r: BenchResults, out: Writable): void {
  const w = (s = ''): void => void out.write(`${s}\n`);
  const m = r.machine;
  w();
  w(`promflux benchmark — size ${r.size}, ${r.rounds} round(s), ${r.started_at}`);
  w(
    `machine: ${m.cpu_model} × ${m.cpu_count}, ${m.total_memory_gib.toFixed(1)} GiB, ${m.os}, node ${m.node_version}; ` +
      `load avg ${m.load_average_start.map((x) => x.toFixed(2)).join(' ')} at start` +
      (m.load_average_end
        ? `, ${m.load_average_end.map((x) => x.toFixed(2)).join(' ')} at end`
        : ''),
  );
  w(
    `source: ${r.source.commit.slice(0, 12)}` +
      (r.source.dirty_src_files.length
        ? ` + uncommitted src changes (${r.source.dirty_src_files.join(', ')})`
        : ' (clean src)'),
  );
  w(
    `servers: ${Object.entries(m.servers)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
  );
  if (r.node_flags) w(`promflux runs as deployed: ${nodeCommand(r)} (systemd unit and container)`);
  if (r.fixture) {
    const f = r.fixture;
    w(
      `fixture: ${f.series} series × ${f.points_per_series} points at 15s = ${samplesLabel(f.samples)} samples; ` +
        `${(f.openmetrics_bytes / 1e6).toFixed(0)} MB OpenMetrics written in ${fixed(f.write_seconds, 1)}s; ` +
        `promtool + Prometheus start ${fixed(f.promtool_and_start_seconds, 1)}s`,
    );
  }

  if (r.startup) {
    w(
      `promflux startup (check-config: modules + config, no work): ${fixed(r.startup.cpu_seconds_process)} CPU s, ` +
        `${mb(r.startup.max_rss_mb)} MB RSS`,
    );
  }

  for (const run of r.runs) {
    w();
    w(
      `== run ${run.label}: ${run.range.series} series × ${run.range.points} points = ${int(run.range.samples)} samples ` +
        `(${run.source.requests} requests of ${run.range.chunk_points_per_series} points/series) ==`,
    );
    const rows: string[][] = [
      [
        'Prometheus source (fetch only, 2 in flight)',
        int(run.source.samples_per_second),
        fixed(run.source.seconds),
        '',
        '',
        `prometheus ${opt(run.source.prometheus_cpu_seconds)}`,
      ],
      [
        'promflux --dry-run (extract+transform)',
        int(run.dry_run.points_per_second),
        fixed(run.dry_run.seconds),
        '',
        `${int(run.dry_run.lines)} lines`,
        `prometheus ${opt(run.dry_run.prometheus_cpu_seconds)}`,
      ],
    ];
    for (const kind of SINK_KINDS) {
      const s = run.sinks[kind];
      if (!s) continue;
      const c = s.ceiling[s.ceiling.length - 1]!;
      const e = s.e2e[s.e2e.length - 1]!;
      rows.push([
        `${SINK_LABEL[kind]}: ceiling`,
        int(s.ceiling_points_per_second),
        fixed(c.seconds),
        '',
        `ok ${int(c.verified_points)}`,
        `sink ${opt(c.server_cpu_seconds[kind])}`,
      ]);
      rows.push([
        `${SINK_LABEL[kind]}: promflux e2e`,
        int(s.e2e_points_per_second),
        fixed(e.seconds),
        `${fixed(s.ratio)}×`,
        `ok ${int(e.verified_points)}`,
        `sink ${opt(e.server_cpu_seconds[kind])}, prometheus ${opt(e.server_cpu_seconds.prometheus)}`,
      ]);
    }
    for (const kind of SINK_KINDS) {
      const s = run.pinned_sinks?.[kind];
      if (!s) continue;
      const c = s.ceiling[s.ceiling.length - 1]!;
      const e = s.e2e[s.e2e.length - 1]!;
      const where =
        r.pinning && 'sink_cpus' in r.pinning ? ` (sink on CPU ${r.pinning.sink_cpus})` : '';
      rows.push([
        `${SINK_LABEL[kind]}: ceiling, pinned${where}`,
        int(s.ceiling_points_per_second),
        fixed(c.seconds),
        '',
        `ok ${int(c.verified_points)}`,
        `sink ${opt(c.server_cpu_seconds[kind])}`,
      ]);
      rows.push([
        `${SINK_LABEL[kind]}: promflux e2e, pinned${where}`,
        int(s.e2e_points_per_second),
        fixed(e.seconds),
        `${fixed(s.ratio)}×`,
        `ok ${int(e.verified_points)}`,
        `sink ${opt(e.server_cpu_seconds[kind])}, prometheus ${opt(e.server_cpu_seconds.prometheus)}`,
      ]);
    }
    w(formatTable(['', 'points/s', 'seconds', 'of ceiling', 'verified', 'server CPU s'], rows));
    w();
    const procRows: string[][] = [];
    const procRow = (name: string, p: RunResult['dry_run']['process']): string[] => [
      name,
      fixed(p.cpu_seconds_process),
      fixed(p.cpu_seconds_per_million_samples, 3),
      fixed(p.cpu_seconds_main_per_million_samples, 3),
      fixed(p.cpu_utilisation_main),
      mb(p.max_rss_mb),
      mb(p.peak_heap_used_mb),
      mb(p.peak_array_buffers_mb),
      String(p.chunks),
    ];
    procRows.push(procRow('promflux --dry-run', run.dry_run.process));
    for (const kind of SINK_KINDS) {
      const e = run.sinks[kind]?.e2e;
      if (e?.length)
        procRows.push(procRow(`promflux → ${SINK_LABEL[kind]}`, e[e.length - 1]!.process));
    }
    w(
      formatTable(
        [
          'promflux process',
          'CPU s',
          'CPU s/1M',
          'main() s/1M',
          'CPU/wall',
          'peak RSS MB',
          'heap MB',
          'Buffers MB',
          'chunks',
        ],
        procRows,
      ),
    );
  }

  if (r.decoder) {
    const d = r.decoder;
    w();
    w(
      `== decoder: ${d.bodies} query_range bodies from run ${d.source_run}, ${(d.bytes / 1e6).toFixed(1)} MB, ` +
        `${int(d.samples)} samples, median of ${d.rounds} rounds ==`,
    );
    w(
      formatTable(
        ['', 'samples/s', 'decoder ÷ this'],
        [
          ['MatrixDecoder (streaming, 64 KiB pushes)', int(d.decoder_samples_per_second), ''],
          [
            'JSON.parse(body.toString()) (baseline)',
            int(d.json_parse_samples_per_second),
            `${fixed(d.ratio_vs_json_parse)}×`,
          ],
          [
            'JSON.parse(string), decoding untimed',
            int(d.json_parse_string_only_samples_per_second),
            `${fixed(d.ratio_vs_json_parse_string_only)}×`,
          ],
          [
            'reference decoder (JSON.parse → columns)',
            int(d.reference_decoder_samples_per_second),
            `${fixed(d.ratio_vs_reference_decoder)}×`,
          ],
        ],
      ),
    );
  }

  if (r.marginal_cpu) {
    const c = r.marginal_cpu;
    w();
    w(
      `== promflux marginal CPU per 1M samples (CPU ${c.large_label} − CPU ${c.small_label}, startup cancelled out) ==`,
    );
    w(
      formatTable(
        ['', 'CPU s/1M'],
        [
          ['--dry-run (extract+transform)', fixed(c.dry_run_cpu_seconds_per_million_samples, 3)],
          ...perSink(c.by_sink, (s) => [fixed(s.cpu_seconds_per_million_samples, 3)]),
        ],
      ),
    );
  }

  if (r.io_floor) {
    const f = r.io_floor;
    w();
    w(
      `== promflux CPU next to the I/O alone, run ${f.run}, CPU s per 1M samples (fetch: node:http, ` +
        `bodies not decoded; post: the ceiling writer, lines not encoded) ==`,
    );
    w(
      formatTable(
        ['', 'fetch', 'post', 'I/O floor', 'promflux', 'promflux − floor'],
        perSink(f.by_sink, (s) => [
          fixed(f.fetch_cpu_seconds_per_million_samples, 3),
          fixed(s.post_cpu_seconds_per_million_samples, 3),
          fixed(s.floor_cpu_seconds_per_million_samples, 3),
          fixed(s.promflux_cpu_seconds_per_million_samples, 3),
          fixed(
            s.promflux_cpu_seconds_per_million_samples - s.floor_cpu_seconds_per_million_samples,
            3,
          ),
        ]),
      ),
    );
  }

  if (r.cpu_budget) {
    const b = r.cpu_budget;
    w();
    w(
      `== CPU s per 1M points, run ${b.run}: ceiling next to end to end (medians). While the cores ` +
        `are as busy in both, e2e ÷ ceiling ≈ ceiling CPU ÷ e2e CPU ==`,
    );
    w(
      formatTable(
        ['', 'sink', 'writer/promflux', 'Prometheus', 'total', 'cores busy', 'ratio'],
        SINK_KINDS.flatMap((k) => {
          const s = b.by_sink[k];
          if (!s) return [];
          return [
            [
              `${SINK_LABEL[k]}: ceiling`,
              fixed(s.ceiling.sink),
              fixed(s.ceiling.writer),
              '',
              fixed(s.ceiling.total),
              fixed(s.ceiling.cores_busy),
              '',
            ],
            [
              `${SINK_LABEL[k]}: promflux e2e`,
              fixed(s.e2e.sink),
              fixed(s.e2e.promflux),
              fixed(s.e2e.prometheus),
              fixed(s.e2e.total),
              fixed(s.e2e.cores_busy),
              `${fixed(s.ratio_from_cpu)} from CPU, ${fixed(s.ratio_measured)} measured`,
            ],
          ];
        }),
      ),
    );
  }

  if (r.shared_core) {
    const c = r.shared_core;
    w();
    w(
      `== pinned, run ${c.run}: the core Prometheus and promflux share caps end to end at 1M ÷ their CPU s per 1M (medians) ==`,
    );
    w(
      formatTable(
        [
          '',
          'Prometheus',
          'promflux',
          'cap points/s',
          'cap ÷ ceiling',
          'core busy',
          'e2e ÷ cap',
          `promflux for ${PINNED_TARGET}`,
        ],
        perSink(c.by_sink, (s) => [
          fixed(s.prometheus_cpu_seconds_per_million, 3),
          fixed(s.promflux_cpu_seconds_per_million, 3),
          int(s.cap_points_per_second),
          fixed(s.cap_of_ceiling),
          fixed(s.core_busy),
          fixed(s.e2e_of_cap),
          s.promflux_cpu_for_target > 0 ? `<= ${fixed(s.promflux_cpu_for_target, 3)}` : 'none',
        ]),
      ),
    );
  }

  if (r.memory_flatness) {
    const f = r.memory_flatness;
    w();
    w(
      `== memory flatness: promflux peak RSS, e2e ${f.small_label} vs ${f.large_label} (medians of every e2e into the sink, unpinned and pinned), ${nodeCommand(r)} ==`,
    );
    w(
      formatTable(
        ['', `${f.small_label} MB`, `${f.large_label} MB`, 'growth', 'runs'],
        perSink(f.by_sink, (s) => [
          mb(s.small_mb),
          mb(s.large_mb),
          pct(s.growth),
          s.runs === undefined ? '' : String(s.runs),
        ]),
      ),
    );
  }

  if (r.profile) {
    const p = r.profile;
    w();
    printProfile(`e2e ${p.run} → ${SINK_LABEL[p.sink]}`, p, w);
  }

  if (r.tier_cost) printTierReport(r.tier_cost, w);

  if (r.targets?.length) {
    w();
    w('== targets ==');
    w(
      formatTable(
        ['', 'measured', 'target', ''],
        r.targets.map((t) => [t.name, t.measured, t.target, t.ok ? 'held' : 'not held']),
      ),
    );
  }
  if (r.total_seconds !== undefined) {
    w();
    w(`total ${fixed(r.total_seconds, 0)}s`);
  }
}

/** The tier-cost part: CPU and peak RSS per round, the ratio, and the profiles when taken. */
export function printTierReport(t: TierCost, w: (line?: string) => void): void {
  const held = t.ratio <= TIER_COST_TARGET ? 'held' : 'not held';
  w();
  w(
    `== tier cost: ${t.run}, --dry-run --summary, median of ${t.rounds} (warm ${t.rollup_lines.warm} + cold ${t.rollup_lines.cold} windows) ==`,
  );
  w(
    formatTable(
      ['', 'CPU s', 'rounds', 'peak RSS MB'],
      [
        [
          'raw alone',
          fixed(t.raw_cpu_seconds_median),
          t.raw_cpu_seconds.map((x) => fixed(x)).join(' '),
          t.raw_max_rss_mb.map((x) => mb(x)).join(' '),
        ],
        [
          'raw + warm 5m + cold 1h',
          fixed(t.raw_plus_rollups_cpu_seconds_median),
          t.raw_plus_rollups_cpu_seconds.map((x) => fixed(x)).join(' '),
          t.raw_plus_rollups_max_rss_mb.map((x) => mb(x)).join(' '),
        ],
      ],
    ),
  );
  w(`ratio ${fixed(t.ratio)}× (target <= ${TIER_COST_TARGET}×): ${held}`);
  for (const [tiers, p] of Object.entries(t.profiles ?? {})) {
    w();
    printProfile(`${tiers}, ${t.run} dry run`, p, w);
  }
}

/** A profile's self time by area and its hottest functions. */
function printProfile(what: string, p: ProfileSummary, w: (line?: string) => void): void {
  w(`== CPU profile: ${what} (separate run, --cpu-prof; ${fixed(p.total_seconds)}s sampled) ==`);
  w(
    formatTable(
      ['area (self time)', 'seconds', 'share'],
      p.areas.slice(0, 12).map((a) => [a.area, fixed(a.seconds), pct(a.share).slice(1)]),
    ),
  );
  w();
  w(
    formatTable(
      ['function (self time)', 'seconds', 'share'],
      p.functions.map((f) => [f.fn, fixed(f.seconds), pct(f.share).slice(1)]),
    ),
  );
}
