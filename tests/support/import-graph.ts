import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/** One import of one module: both paths relative to the source root, posix-style. */
export interface ImportEdge {
  from: string;
  to: string;
}

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, types included: a
// type import ties the stages together as much as a value import does.
const IMPORT = /\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;

/** The relative imports of `source`, the module at `file` (relative to the root). */
export function relativeImports(file: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    edges.push({ from: file, to: posix.normalize(posix.join(posix.dirname(file), spec)) });
  }
  return edges;
}

/** Every `.ts` file under `root`, as paths relative to it with `/` separators. */
export function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(root);
  return files.sort();
}

export function importGraph(root: string): ImportEdge[] {
  return sourceFiles(root).flatMap((file) =>
    relativeImports(file, readFileSync(join(root, file), 'utf8')),
  );
}

/** The top folder of a root-relative path (`load/sink.js` → `load`), or `..` when outside. */
export function stageOf(path: string): string {
  return path.startsWith('../') ? '..' : (path.split('/')[0] ?? '');
}

/**
 * The edges that break the layering: a module may import its own folder and folders of a lower
 * layer only (`layers[i]` lists the folders of layer i). Imports leaving the root or reaching a
 * folder without a layer break it too.
 */
export function layerViolations(edges: ImportEdge[], layers: string[][]): string[] {
  const rank = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
  const violations: string[] = [];
  for (const { from, to } of edges) {
    const a = stageOf(from);
    const b = stageOf(to);
    if (a === b && a !== '..') continue;
    const ra = rank.get(a);
    const rb = rank.get(b);
    if (ra === undefined || rb === undefined || rb >= ra) {
      violations.push(`${from} → ${to}`);
    }
  }
  return violations;
}
