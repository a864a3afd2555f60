import { describe, expect, it } from 'vitest';
import { issuesOf, parse, yamlWith } from './helpers.js';

describe('load.export', () => {
  it('is absent by default, and takes a dir (relative to the config file) and a format', async () => {
    expect((await parse(yamlWith())).config.load.export).toBeUndefined();
    const { config } = await parse(yamlWith({ load: { export: { dir: 'dataset' } } }));
    expect(config.load.export).toEqual({ dir: '/etc/promflux/dataset', format: 'parquet' });
    const csv = await parse(yamlWith({ load: { export: { dir: '/data/set', format: 'csv' } } }));
    expect(csv.config.load.export).toEqual({ dir: '/data/set', format: 'csv' });
  });

  it('requires dir and refuses other formats and unknown keys', async () => {
    expect(await issuesOf(yamlWith({ load: { export: { format: 'csv' } } }))).toEqual([
      {
        path: 'load.export.dir',
        message: 'is required (a directory path (relative to the config file))',
      },
    ]);
    const issues = await issuesOf(
      yamlWith({ load: { export: { dir: 'd', format: 'json', layout: 'wide' } } }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['load.export.format', 'load.export.layout']);
    expect(issues.find((i) => i.path === 'load.export.format')!.message).toMatch(/parquet.*csv/);
  });

  it('needs every query step to divide an hour (one file per query per hour)', async () => {
    const queries = [
      { name: 'ok', query: 'up', step: '15s' },
      { name: 'odd', query: 'up', step: '7s' },
    ];
    expect(
      await issuesOf(yamlWith({ extract: { queries }, load: { export: { dir: 'd' } } })),
    ).toEqual([
      {
        path: 'extract.queries[1].step',
        message:
          'query "odd": step 7s does not divide 1h, which load.export needs (one file per query per hour, every hour on the same grid)',
      },
    ]);
    // Without load.export the same steps are fine.
    await expect(parse(yamlWith({ extract: { queries } }))).resolves.toBeDefined();
  });

  it('pipeline.lateness has an effect, with or without load.export: no warning', async () => {
    const withExport = await parse(
      yamlWith({ pipeline: { lateness: '10m' }, load: { export: { dir: 'd' } } }),
    );
    expect(withExport.warnings.filter((w) => w.startsWith('pipeline.lateness'))).toEqual([]);
    // Rollup tiers hold their windows back by it.
    const without = await parse(yamlWith({ pipeline: { lateness: '10m' } }));
    expect(without.warnings.some((w) => w.startsWith('pipeline.lateness'))).toBe(false);
  });
});
