/**
 * The Dockerfile, checked without a Docker engine: what it copies exists and is in the build
 * context, it runs as a numeric non-root user, its ENV settings are real config keys, and its
 * entry point is the CLI. tests/integration/container.test.ts runs its HEALTHCHECK against a real
 * `promflux run` configured by that ENV.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEnvOverrides } from '../../../src/config/env-overrides.js';
import { parseConfig } from '../../../src/config/index.js';
import { parseListen } from '../../../src/observe/http-server.js';
import {
  dockerignored,
  dockerignorePatterns,
  envOf,
  execForm,
  instructions,
  parseDockerfile,
  splitFlags,
  type Stage,
} from '../../support/dockerfile.js';

const REPO = resolve(import.meta.dirname, '../../..');
const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const ignore = dockerignorePatterns(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
const runtime = stages.at(-1)!;
const build = stages.find((s) => s.name === 'build')!;
const deps = stages.find((s) => s.name === 'deps')!;

function only(stage: Stage, keyword: string): string {
  const found = instructions(stage, keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!.args;
}

/** `WORKDIR`-relative destination of the last WORKDIR before a COPY (here: one per stage). */
function workdir(stage: Stage): string {
  return only(stage, 'WORKDIR');
}

/** Paths the build context must provide, from every COPY without --from. */
function contextSources(): string[] {
  return stages.flatMap((stage) =>
    instructions(stage, 'COPY').flatMap(({ args }) => {
      const { flags, rest } = splitFlags(args);
      if (flags.from !== undefined) return [];
      return rest.split(/\s+/).slice(0, -1);
    }),
  );
}

describe('Dockerfile', () => {
  it('builds, installs production dependencies and runs on one Node 20 base, a build argument', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', undefined]);
    // One argument swaps every stage's base (scripts/container-test.sh builds from a local one).
    for (const stage of stages) expect(stage.from).toBe('${NODE_IMAGE}');
    expect(runtime.image).toBe('node:20-bookworm-slim');
    const engines = (
      JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    expect(engines).toMatch(/^>=20(\.|$)/);
    // `npm ci`: exactly the lock file's versions, and an error if it disagrees with package.json.
    const steps = (stage: Stage): string[] => instructions(stage, 'RUN').map((r) => r.args);
    expect(steps(build)).toEqual([
      expect.stringMatching(/^npm ci --ignore-scripts /),
      'npm run build',
    ]);
    expect(steps(deps)).toEqual([expect.stringMatching(/^npm ci --omit=dev --ignore-scripts /)]);
    for (const stage of [build, deps]) {
      expect(
        splitFlags(instructions(stage, 'COPY')[0]!.args).rest.split(/\s+/).slice(0, 2),
      ).toEqual(['package.json', 'package-lock.json']);
    }
  });

  it('runs as a numeric, non-root user (Kubernetes runAsNonRoot can verify it)', () => {
    const user = only(runtime, 'USER');
    expect(user).toMatch(/^\d+(:\d+)?$/);
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).not.toBe(0);
    if (gid !== undefined) expect(gid).not.toBe(0);
    // The state volume belongs to that user, the code does not.
    expect(instructions(runtime, 'RUN').map((r) => r.args)).toContainEqual(
      expect.stringMatching(new RegExp(`chown ${user} /var/lib/promflux`)),
    );
    for (const { args } of instructions(runtime, 'COPY')) {
      expect(splitFlags(args).flags.chown, args).toBeUndefined();
    }
  });

  it('copies only what exists and what .dockerignore lets into the build context', () => {
    const sources = contextSources();
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'bin']),
    );
    for (const source of sources) {
      expect(existsSync(join(REPO, source)), source).toBe(true);
      expect(dockerignored(ignore, source), `${source} is excluded by .dockerignore`).toBe(false);
      if (statSync(join(REPO, source)).isDirectory()) {
        expect(dockerignored(ignore, `${source}/x.ts`), `${source}/*`).toBe(false);
      }
    }
    for (const secretOrBulk of [
      'config/promflux.yaml',
      'node_modules/x/index.js',
      'dist/cli/main.js',
      '.git/config',
      'tests/unit/x.test.ts',
      'promflux-state/watermarks.json',
      'secrets/influx-token',
      '.cache/container/debian-bookworm-minbase.tar',
    ]) {
      expect(dockerignored(ignore, secretOrBulk), secretOrBulk).toBe(true);
    }
  });

  it('takes dist from the build stage and node_modules from the production-only stage', () => {
    const fromStages = instructions(runtime, 'COPY')
      .map(({ args }) => splitFlags(args))
      .filter(({ flags }) => flags.from !== undefined)
      .map(({ flags, rest }) => `${flags.from} ${rest.split(/\s+/)[0]!}`);
    expect(fromStages.sort()).toEqual([
      `build ${posix.join(workdir(build), 'dist')}`,
      `deps ${posix.join(workdir(deps), 'node_modules')}`,
    ]);
    const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(tsconfig.compilerOptions.rootDir).toBe('src');
  });

  it('starts the CLI: the entry point is bin/promflux.js of the built tree, the command run', () => {
    const entrypoint = execForm(only(runtime, 'ENTRYPOINT'));
    expect(entrypoint[0]).toBe('node');
    // Node's flags come between node and the script: tests/unit/deploy/node-flags.test.ts.
    const script = posix.relative(workdir(runtime), entrypoint.at(-1)!);
    expect(script).toBe('bin/promflux.js');
    const bin = readFileSync(join(REPO, script), 'utf8');
    const imported = /from '(\.\.\/dist\/[^']+)'/.exec(bin)?.[1];
    expect(imported).toBe('../dist/cli/main.js');
    expect(existsSync(join(REPO, 'src/cli/main.ts'))).toBe(true);
    expect(execForm(only(runtime, 'CMD'))).toEqual(['run']);
    expect(only(runtime, 'STOPSIGNAL')).toBe('SIGTERM');
  });

  it('sets real config keys: the server on every interface, state in the volume', async () => {
    const env = envOf(runtime);
    const overrides = Object.fromEntries(
      Object.entries(env).filter(([k]) => k.startsWith('PROMFLUX__')),
    );
    expect(Object.keys(overrides).sort()).toEqual([
      'PROMFLUX__PIPELINE__STATE_DIR',
      'PROMFLUX__SERVER__LISTEN',
    ]);
    expect(applyEnvOverrides({}, overrides).issues).toEqual([]);

    const { host, port } = parseListen(overrides.PROMFLUX__SERVER__LISTEN!);
    expect([undefined, '0.0.0.0', '::']).toContain(host);
    expect(only(runtime, 'EXPOSE')).toBe(String(port));
    expect(only(runtime, 'VOLUME')).toBe(overrides.PROMFLUX__PIPELINE__STATE_DIR);

    // With the three required keys, the image's ENV is a whole configuration.
    const { config } = await parseConfig('{}', {
      baseDir: '/app',
      env: {
        ...env,
        PROMFLUX__EXTRACT__PROMETHEUS_URL: 'http://localhost:9090',
        PROMFLUX__LOAD__INFLUXDB__URL: 'http://influxdb:8086',
        PROMFLUX__LOAD__INFLUXDB__BUCKET: 'health_metrics',
      },
    });
    expect(config.server.listen).toBe(overrides.PROMFLUX__SERVER__LISTEN);
    expect(config.pipeline.stateDir).toBe('/var/lib/promflux');
  });

  it('has a HEALTHCHECK on /healthz run by node itself, on the port of server.listen', () => {
    const { flags, rest } = splitFlags(only(runtime, 'HEALTHCHECK'));
    expect(rest.startsWith('CMD ')).toBe(true);
    const command = execForm(rest.slice('CMD '.length));
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/healthz');
    expect(command[2]).toContain('process.env.PROMFLUX__SERVER__LISTEN');
    // The check must give up before Docker's own timeout kills it.
    const timeoutMs = Number(/AbortSignal\.timeout\((\d+)\)/.exec(command[2]!)?.[1]);
    expect(timeoutMs).toBeLessThan(Number.parseInt(flags.timeout!, 10) * 1000);
  });
});
