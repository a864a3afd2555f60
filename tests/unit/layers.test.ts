/**
 * The architecture's one structural rule (docs/ARCHITECTURE.md): folders are stages and layers,
 * and a module imports only its own folder and the layers below it, so data types and helpers
 * live where the data flow says and no stage reaches into a later one.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, layerViolations, relativeImports } from '../support/import-graph.js';

const SRC = resolve(import.meta.dirname, '../../src');

/** Lowest first. Folders on one line are independent of each other. */
const LAYERS = [
  ['core'],
  ['config', 'state'],
  ['extract'],
  ['transform'],
  ['load', 'export'],
  ['pipeline'],
  ['observe'],
  ['daemon'],
  ['cli'],
];

describe('layering of src/', () => {
  it('gives every folder under src/ a layer, and lists no folder that is gone', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(LAYERS.flat().sort()).toEqual(folders);
  });

  it('imports only downward: own folder or a lower layer', () => {
    const edges = importGraph(SRC);
    expect(edges.length).toBeGreaterThan(100);
    expect(layerViolations(edges, LAYERS)).toEqual([]);
  });
});

describe('the layering check', () => {
  const check = (file: string, source: string): string[] =>
    layerViolations(relativeImports(file, source), LAYERS);

  it('reports an import from a later stage, type-only imports included', () => {
    expect(check('transform/a.ts', "import type { LineBatch } from '../load/sink.js';")).toEqual([
      'transform/a.ts → load/sink.js',
    ]);
  });

  it('reports re-exports, dynamic imports and side-effect imports', () => {
    const source = [
      "export { x } from '../cli/main.js';",
      "const m = await import('../daemon/daemon.js');",
      "import '../pipeline/pipeline.js';",
    ].join('\n');
    expect(check('extract/a.ts', source)).toEqual([
      'extract/a.ts → cli/main.js',
      'extract/a.ts → daemon/daemon.js',
      'extract/a.ts → pipeline/pipeline.js',
    ]);
  });

  it('reports imports between folders of one layer, and out of src/', () => {
    expect(check('config/a.ts', "import { s } from '../state/watermark-store.js';")).toEqual([
      'config/a.ts → state/watermark-store.js',
    ]);
    expect(check('core/a.ts', "import { s } from '../../tests/support/x.js';")).toEqual([
      'core/a.ts → ../tests/support/x.js',
    ]);
  });

  it('accepts its own folder, lower layers and packages', () => {
    const source = [
      "import { a } from './b.js';",
      "import { c } from '../core/series.js';",
      "import { d } from '../../load/sink.js';",
      "import axios from 'axios';",
    ].join('\n');
    expect(check('pipeline/x/a.ts', source)).toEqual([]);
  });
});
