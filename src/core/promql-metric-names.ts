/**
 * The metric names a PromQL expression selects: `rate(http_requests_total[5m])` → `http_requests_total`.
 *
 * Used to judge series that carry no `__name__` (functions and operators drop it): such a series is
 * derived from the metrics its query selects. A lexer, not a parser: identifiers that are not
 * function calls, keywords, label names inside `{...}` or grouping lists (`by (...)`), plus
 * `__name__="x"` matchers. Regex name matchers (`{__name__=~"..."}`) cannot be resolved statically
 * and are reported separately.
 */
export interface SelectedMetrics {
  names: string[];
  /** The query selects metrics by a `__name__` regex or negation: names are not statically known. */
  hasDynamicNames: boolean;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'start',
  'end',
  'inf',
  'nan',
]);

// Aggregations accept their grouping clause before the parenthesised argument: `sum by (le) (x)`.
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export function selectedMetrics(expr: string): SelectedMetrics {
  const names = new Set<string>();
  let hasDynamicNames = false;
  let i = 0;
  const n = expr.length;
  let previousWord = '';

  while (i < n) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
      previousWord = '';
      continue;
    }
    if (c === '#') {
      while (i < n && expr[i] !== '\n') i++;
      continue;
    }
    if (c === '{') {
      const end = findClosing(expr, i, '{', '}');
      const matchers = expr.slice(i + 1, end);
      const nameMatch =
        /(?:^|,)\s*__name__\s*(=~|!=|!~|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/.exec(matchers);
      if (nameMatch) {
        if (nameMatch[1] === '=') names.add(unquote(nameMatch[2]!));
        else hasDynamicNames = true;
      }
      i = end + 1;
      previousWord = '';
      continue;
    }
    if (c === '[') {
      i = findClosing(expr, i, '[', ']') + 1;
      continue;
    }
    if (c === '(' && GROUPING.has(previousWord)) {
      i = findClosing(expr, i, '(', ')') + 1;
      previousWord = '';
      continue;
    }
    if (/[A-Za-z_:]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_:]/.test(expr[j]!)) j++;
      const word = expr.slice(i, j);
      let k = j;
      while (k < n && /\s/.test(expr[k]!)) k++;
      // `sum by (le) (...)`: an aggregation whose grouping clause comes before its argument.
      const isCall = expr[k] === '(' || /^(by|without)\s*\(/i.test(expr.slice(k, k + 12));
      const afterOffset = previousWord === 'offset';
      if (!isCall && !afterOffset && !KEYWORDS.has(word.toLowerCase())) names.add(word);
      previousWord = word.toLowerCase();
      i = j;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // Numbers and durations (`5m`, `1.5e3`, `0x1f`) are not metric names.
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(expr[j]!)) j++;
      i = j;
      previousWord = '';
      continue;
    }
    if (!/\s/.test(c)) previousWord = '';
    i++;
  }
  return { names: [...names], hasDynamicNames };
}

function skipString(s: string, start: number): number {
  const quote = s[start]!;
  let i = start + 1;
  while (i < s.length && s[i] !== quote) {
    if (s[i] === '\\' && quote !== '`') i++;
    i++;
  }
  return i + 1;
}

function findClosing(s: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(s, i) - 1;
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  return s.length - 1;
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}
