import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinary } from '../../../scripts/lib/servers.js';
import { DaemonMetrics } from '../../../src/observe/metrics.js';

const DEPLOY = resolve(import.meta.dirname, '../../../deploy');

/** Families promflux exposes, with the series names histograms add. */
async function exposedNames(): Promise<Set<string>> {
  const text = await new DaemonMetrics().registry.metrics();
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}

function referencedMetrics(text: string): string[] {
  return [...new Set(text.match(/promflux_[a-z_]+/g) ?? [])];
}

describe('deploy/', () => {
  it('alert rules pass promtool check rules and their unit tests', () => {
    const promtool = findBinary('promtool');
    expect(promtool, 'promtool (Debian prometheus) must be installed').toBeDefined();
    const opts = { cwd: resolve(DEPLOY, 'prometheus'), encoding: 'utf8' as const };
    expect(execFileSync(promtool!, ['check', 'rules', 'promflux-alerts.yml'], opts)).toMatch(
      /SUCCESS: 7 rules found/,
    );
    expect(execFileSync(promtool!, ['test', 'rules', 'promflux-alerts.test.yml'], opts)).toMatch(
      /SUCCESS/,
    );
  });

  it('the alert rules and the Grafana dashboard only use metrics promflux exposes', async () => {
    const names = await exposedNames();
    const rules = readFileSync(resolve(DEPLOY, 'prometheus/promflux-alerts.yml'), 'utf8');
    const dashboardText = readFileSync(resolve(DEPLOY, 'grafana/promflux-dashboard.json'), 'utf8');
    const dashboard = JSON.parse(dashboardText) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.panels.length).toBeGreaterThan(8);
    for (const name of [...referencedMetrics(rules), ...referencedMetrics(dashboardText)]) {
      expect(names.has(name), name).toBe(true);
    }
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
  });

  it('the dashboard has a tier variable, and every per-tier panel filters by it', () => {
    const dashboard = JSON.parse(
      readFileSync(resolve(DEPLOY, 'grafana/promflux-dashboard.json'), 'utf8'),
    ) as {
      templating: { list: Array<{ name: string; query?: string }> };
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const tier = dashboard.templating.list.find((v) => v.name === 'tier');
    expect(tier?.query).toMatch(/^label_values\(promflux_tier_\w+\{.*\}, tier\)$/);
    const tierPanels = dashboard.panels.filter((p) =>
      p.targets.some((t) => /promflux_(tier_|gap_)/.test(t.expr)),
    );
    expect(tierPanels.length).toBeGreaterThanOrEqual(4);
    for (const panel of tierPanels) {
      for (const target of panel.targets) {
        expect(target.expr, panel.title).toContain('tier=~"$tier"');
      }
    }
  });
});
