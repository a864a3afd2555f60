/**
 * "Did you mean" suggestions for misspelt config keys: the closest known key by edit distance,
 * compared case-insensitively with `_` and `-` ignored, so `promethus_url`, `PrometheusURL` and
 * `prometheusUrl` all find `prometheus_url`.
 */

/**
 * Edit distance between two strings where an insertion, deletion, substitution or swap of two
 * adjacent characters each costs 1 (optimal string alignment distance).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the swap rule looks two rows back.
  let twoBack: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, twoBack[j - 2]! + 1);
      }
      row.push(best);
    }
    twoBack = prev;
    prev = row;
  }
  return prev[b.length]!;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a plausible typo
 * (at most one edit per three characters of the candidate, and at least one).
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(input);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, normalize(candidate));
    const allowed = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
