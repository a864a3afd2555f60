/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`) into self time by area of the code
 * (promflux's stages, axios, Node internals, GC, idle) and the hottest functions: where an
 * end-to-end run spends its CPU.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  total_seconds: number;
  /** Self seconds by area, largest first. */
  areas: { area: string; seconds: number; share: number }[];
  /** Hottest functions by self time. */
  functions: { fn: string; seconds: number; share: number }[];
}

function areaOf(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(idle)') return 'idle (waiting on I/O)';
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)') return 'V8/native (program)';
    return `native ${fn || '(anonymous)'}`;
  }
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `promflux ${dist[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return `npm ${mod[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

export async function summariseProfiles(
  dir: string,
  top = 15,
): Promise<ProfileSummary | undefined> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = files[0];
  if (file === undefined) return undefined;
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url
      ? `${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  });
  const rank = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return {
    total_seconds: total / 1e6,
    areas: rank(areas).map(([area, us]) => ({ area, seconds: us / 1e6, share: us / total })),
    functions: rank(fns)
      .slice(0, top)
      .map(([fn, us]) => ({ fn, seconds: us / 1e6, share: us / total })),
  };
}
