/**
 * Just enough of a Dockerfile and .dockerignore reader to check ours without a Docker engine:
 * stages, instructions (continuation lines joined, comments dropped), the `ARG`s before the first
 * `FROM` (usable in `FROM` lines only) with their defaults, ENV pairs, exec-form JSON,
 * and the .dockerignore matching rules (last matching pattern wins, a match on a parent
 * directory counts, `!` re-includes).
 */

export interface Instruction {
  /** Upper-case: `FROM`, `COPY`, `ENV`... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

export interface Stage {
  /** The `FROM` image as written, e.g. `${NODE_IMAGE}`. */
  from: string;
  /** The image with the defaults of the global `ARG`s substituted (what a plain build uses). */
  image: string;
  /** `AS name`, when given. */
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trim() + ' ';
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  if (pending !== '') logical.push(pending.trim());

  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  for (const line of logical) {
    if (line === '') continue;
    const keyword = /^\S+/.exec(line)![0];
    const instruction = { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim() };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [key = '', ...value] = instruction.args.split('=');
      globalArgs[key] = value.join('=');
      continue;
    }
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/);
      const image = from.replace(/\$\{(\w+)\}|\$(\w+)/g, (ref, a?: string, b?: string) => {
        const value = globalArgs[(a ?? b)!];
        if (value === undefined) throw new Error(`FROM ${from}: ${ref} is not a global ARG`);
        return value;
      });
      stages.push({
        from,
        image,
        ...(as?.toUpperCase() === 'AS' && name !== undefined && { name }),
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${instruction.keyword} before FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** The instructions of `stage` with this keyword. */
export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A value`) as pairs, across every ENV. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions(stage, 'ENV')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
      const [key = '', ...value] = args.split(/\s+/);
      env[key] = value.join(' ');
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|\S*)/g)) {
      env[m[1]!] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!;
    }
  }
  return env;
}

/** An exec-form argument list (`["node", "x"]`); throws on the shell form. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`not an exec-form list: ${args}`);
  }
  return parsed;
}

/** `--flag=value` options in front of the arguments, and the arguments. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args.trim();
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(rest); m; m = /^--([a-z-]+)=(\S+)\s*/.exec(rest)) {
    flags[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Whether `.dockerignore` patterns keep `path` (relative, `/`-separated) out of the context. */
export function dockerignored(patterns: readonly string[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const exception = raw.startsWith('!');
    const pattern = (exception ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = globToRegExp(pattern);
    if (candidates.some((c) => regex.test(c))) excluded = !exception;
  }
  return excluded;
}

/** Patterns of a .dockerignore file: comments and blank lines dropped. */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
