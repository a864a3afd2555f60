/**
 * deploy/kubernetes/*.yaml, checked without a cluster: every document is a well-formed object,
 * references inside a file resolve (volumes, ConfigMaps, Services, named ports), the promflux
 * container matches the server (port 9469, /healthz, /readyz) and is hardened, and its
 * configuration (env + mounted ConfigMap and Secret, laid out in a temp dir as the kubelet would)
 * loads with promflux's own loader. For the StatefulSet, every replica's shard is derived and the
 * replicas together own every query exactly once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../../scripts/lib/servers.js';
import { loadConfigFile, type PromfluxConfig } from '../../../src/config/index.js';
import { ownsQuery } from '../../../src/daemon/shard.js';
import { parseListen } from '../../../src/observe/http-server.js';
import { envOf, parseDockerfile } from '../../support/dockerfile.js';

const REPO = resolve(import.meta.dirname, '../../..');
const DIR = join(REPO, 'deploy/kubernetes');
const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;
const IMAGE_ENV = envOf(parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).at(-1)!);
const PORT = 9469;

// Just the fields these tests read.
interface Meta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  containers: Container[];
  volumes?: Volume[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    serviceName?: string;
    clusterIP?: string;
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    ports?: Array<{ name?: string; port: number; targetPort?: string | number }>;
    template?: { metadata: Meta; spec: PodSpec };
    volumeClaimTemplates?: Array<{ metadata: Meta }>;
  };
}

function documents(file: string): K8sObject[] {
  return loadAll(readFileSync(join(DIR, file), 'utf8')).filter(
    (d) => d !== null && d !== undefined,
  ) as K8sObject[];
}

const FILES = ['sidecar.yaml', 'statefulset.yaml'];

function workload(docs: K8sObject[], kind: string): { object: K8sObject; pod: PodSpec } {
  const object = docs.find((d) => d.kind === kind);
  expect(object, kind).toBeDefined();
  return { object: object!, pod: object!.spec!.template!.spec };
}

function promflux(pod: PodSpec): Container {
  const container = pod.containers.find((c) => c.name === 'promflux');
  expect(container).toBeDefined();
  return container!;
}

function envValue(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/**
 * The container's environment as the kubelet builds it: downward-API fields from `pod`, and
 * `$(VAR)` replaced by variables defined earlier in the list (unknown references stay as they
 * are, like Kubernetes does).
 */
function containerEnv(container: Container, pod: { labels: Record<string, string> }) {
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.valueFrom?.fieldRef) {
      const label = /^metadata\.labels\['([^']+)'\]$/.exec(v.valueFrom.fieldRef.fieldPath);
      expect(label, v.valueFrom.fieldRef.fieldPath).not.toBeNull();
      env[v.name] = pod.labels[label![1]!] ?? '';
      continue;
    }
    env[v.name] = (v.value ?? '').replace(
      /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
      (whole, name: string) => (name in env ? env[name]! : whole),
    );
  }
  return env;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'promflux-k8s-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * Loads the promflux container's configuration the way it would load in the pod: its volume
 * mounts laid out under a temp dir (ConfigMap data and Secret items as files), paths in its env
 * moved there, then promflux's own loader.
 */
async function loadInPod(
  docs: K8sObject[],
  pod: PodSpec,
  container: Container,
  podLabels: Record<string, string>,
): Promise<{ config: PromfluxConfig; warnings: string[]; env: Record<string, string> }> {
  const root = await mkdtemp(join(scratch, 'pod-'));
  const env = containerEnv(container, { labels: podLabels });
  const mounts = [...(container.volumeMounts ?? [])].sort(
    (a, b) => b.mountPath.length - a.mountPath.length,
  );
  for (const mount of mounts) {
    const dir = join(root, mount.mountPath);
    await mkdir(dir, { recursive: true });
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.configMap) {
      const map = docs.find(
        (d) => d.kind === 'ConfigMap' && d.metadata.name === volume.configMap!.name,
      );
      for (const [key, text] of Object.entries(map!.data ?? {})) {
        await writeFile(join(dir, key), text);
      }
    }
    if (volume?.secret) {
      expect(volume.secret.items, 'the Secret volume names its items').toBeDefined();
      for (const item of volume.secret.items!) {
        await writeFile(join(dir, item.path), `dummy-${item.key}-value\n`, { mode: 0o600 });
      }
    }
  }
  for (const [name, value] of Object.entries(env)) {
    const mount = mounts.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
    if (mount) env[name] = join(root, value);
  }
  expect(env.PROMFLUX_CONFIG, 'PROMFLUX_CONFIG points into a mounted ConfigMap').toBeDefined();
  const loaded = await loadConfigFile(env.PROMFLUX_CONFIG!, env);
  return { ...loaded, env };
}

describe.each(FILES)('deploy/kubernetes/%s', (file) => {
  const docs = documents(file);

  it('is a list of Kubernetes objects, each with apiVersion, kind and a name', () => {
    expect(docs.length).toBeGreaterThan(1);
    for (const doc of docs) {
      expect(typeof doc.apiVersion, JSON.stringify(doc).slice(0, 80)).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(doc.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const names = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('references only what it defines: volumes, ConfigMaps, Services, labels, named ports', () => {
    for (const object of docs.filter((d) => d.spec?.template)) {
      const spec = object.spec!;
      const pod = spec.template!.spec;
      const podLabels = spec.template!.metadata.labels ?? {};
      expect(podLabels).toMatchObject(spec.selector!.matchLabels!);
      const volumes = new Set([
        ...(pod.volumes ?? []).map((v) => v.name),
        ...(spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name),
      ]);
      for (const c of pod.containers) {
        for (const m of c.volumeMounts ?? [])
          expect(volumes, `${c.name}: ${m.name}`).toContain(m.name);
        for (const probe of [c.livenessProbe, c.readinessProbe]) {
          const port = probe?.httpGet?.port;
          if (typeof port === 'string') {
            expect(
              c.ports?.map((p) => p.name),
              `${c.name} probe port`,
            ).toContain(port);
          }
        }
      }
      for (const v of pod.volumes ?? []) {
        if (v.configMap) {
          expect(
            docs.some((d) => d.kind === 'ConfigMap' && d.metadata.name === v.configMap!.name),
            v.configMap.name,
          ).toBe(true);
        }
        if (v.persistentVolumeClaim) {
          expect(
            docs.some(
              (d) =>
                d.kind === 'PersistentVolumeClaim' &&
                d.metadata.name === v.persistentVolumeClaim!.claimName,
            ),
          ).toBe(true);
        }
      }
      if (object.kind === 'StatefulSet') {
        const governing = docs.find(
          (d) => d.kind === 'Service' && d.metadata.name === spec.serviceName,
        );
        expect(governing?.spec?.clusterIP, 'serviceName is a headless Service').toBe('None');
      }
      for (const service of docs.filter((d) => d.kind === 'Service')) {
        expect(podLabels).toMatchObject(service.spec!.selector!);
        for (const port of service.spec!.ports!) {
          const target = port.targetPort ?? port.port;
          const all = pod.containers.flatMap((c) => c.ports ?? []);
          expect(
            all.some((p) => p.name === target || p.containerPort === target),
            `${service.metadata.name}: targetPort ${target}`,
          ).toBe(true);
        }
      }
    }
  });

  it('runs the promflux image of this version, hardened, on the server port with its probes', () => {
    for (const kind of ['Deployment', 'StatefulSet']) {
      const object = docs.find((d) => d.kind === kind);
      if (!object) continue;
      const pod = object.spec!.template!.spec;
      const c = promflux(pod);
      expect(c.image).toBe(`promflux:${VERSION}`);
      expect(c.args).toEqual(['run']);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30); // > shutdown_grace
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources?.requests?.memory).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();

      const listen = envValue(c, 'PROMFLUX__SERVER__LISTEN') ?? IMAGE_ENV.PROMFLUX__SERVER__LISTEN!;
      expect(parseListen(listen).port).toBe(PORT);
      expect(parseListen(listen).host ?? '0.0.0.0').toBe('0.0.0.0');
      const named = c.ports!.find((p) => p.containerPort === PORT);
      expect(named).toBeDefined();
      const onServer = (probe: Probe | undefined): string => {
        expect([named!.name, PORT]).toContain(probe?.httpGet?.port);
        return probe!.httpGet!.path;
      };
      expect(onServer(c.livenessProbe)).toBe('/healthz');
      // Sidecar: /healthz (pod readiness is shared with Prometheus); alone: /readyz.
      expect(onServer(c.readinessProbe)).toBe(kind === 'Deployment' ? '/healthz' : '/readyz');

      const stateDir =
        envValue(c, 'PROMFLUX__PIPELINE__STATE_DIR') ?? IMAGE_ENV.PROMFLUX__PIPELINE__STATE_DIR!;
      expect(stateDir).toBe(IMAGE_ENV.PROMFLUX__PIPELINE__STATE_DIR);
      const stateMount = c.volumeMounts!.find((m) => m.mountPath === stateDir);
      expect(stateMount, 'the state dir is a volume').toBeDefined();
      expect(stateMount!.readOnly).not.toBe(true);
      const token = envValue(c, 'PROMFLUX__LOAD__INFLUXDB__TOKEN_FILE');
      const secretMount = c.volumeMounts!.find((m) => token?.startsWith(`${m.mountPath}/`));
      const secret = pod.volumes!.find((v) => v.name === secretMount?.name)?.secret;
      expect(secret, 'the token file is in a mounted Secret').toBeDefined();
      expect(envValue(c, 'PROMFLUX__LOAD__INFLUXDB__TOKEN')).toBeUndefined();
    }
  });
});

describe('deploy/kubernetes/sidecar.yaml: promflux next to Prometheus', () => {
  const docs = documents('sidecar.yaml');
  const { pod } = workload(docs, 'Deployment');

  it('loads with promflux loader: env over the ConfigMap, token from the Secret', async () => {
    const { config, env } = await loadInPod(docs, pod, promflux(pod), {});
    expect(config.extract.queries.map((q) => q.name)).toEqual([
      'availability',
      'request_rate',
      'head_series',
    ]);
    expect(config.load.influxdb.token).toBe('dummy-token-value');
    expect(config.load.influxdb.api).toBe('v2');
    expect(config.pipeline.intervalSeconds).toBe(60);
    expect(config.pipeline.shard).toEqual({ index: 0, count: 1 });
    expect(config.pipeline.stateDir).toBe(env.PROMFLUX__PIPELINE__STATE_DIR);
    expect(config.server.listen).toBe(`0.0.0.0:${PORT}`);
  });

  it('reads the Prometheus of its own pod, which scrapes promflux back', async () => {
    const prometheus = pod.containers.find((c) => c.name === 'prometheus')!;
    const url = new URL(envValue(promflux(pod), 'PROMFLUX__EXTRACT__PROMETHEUS_URL')!);
    expect(url.hostname).toBe('localhost');
    expect(prometheus.ports!.map((p) => p.containerPort)).toContain(Number(url.port));
    const promConfig = docs.find((d) => d.metadata.name === 'prometheus-sidecar-config')!.data![
      'prometheus.yml'
    ]!;
    expect(promConfig).toContain(`'localhost:${PORT}'`);
    const promtool = findBinary('promtool');
    expect(promtool, 'promtool (Debian prometheus) must be installed').toBeDefined();
    const file = join(scratch, 'prometheus.yml');
    await writeFile(file, promConfig);
    expect(execFileSync(promtool!, ['check', 'config', file], { encoding: 'utf8' })).toMatch(
      /SUCCESS/,
    );
  });
});

describe('deploy/kubernetes/statefulset.yaml: one shard per replica', () => {
  const docs = documents('statefulset.yaml');
  const { object, pod } = workload(docs, 'StatefulSet');
  const replicas = object.spec!.replicas!;

  it('gives replica i the shard i/replicas, and every query exactly one owner', async () => {
    expect(replicas).toBeGreaterThan(1);
    const owners = new Map<string, number[]>();
    let all: string[] = [];
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const labels = {
        ...object.spec!.template!.metadata.labels,
        'apps.kubernetes.io/pod-index': String(ordinal),
      };
      const { config } = await loadInPod(docs, pod, promflux(pod), labels);
      expect(config.pipeline.shard).toEqual({ index: ordinal, count: replicas });
      all = config.extract.queries.map((q) => q.name);
      for (const name of all) {
        if (ownsQuery(name, config.pipeline.shard))
          owners.set(name, [...(owners.get(name) ?? []), ordinal]);
      }
    }
    expect(all.length).toBeGreaterThan(replicas);
    for (const name of all) expect(owners.get(name), name).toHaveLength(1);
    // With these queries, no replica sits idle.
    expect(new Set([...owners.values()].flat()).size).toBe(replicas);
  });

  it('fails fast, naming the variable, where the pod index label is missing (Kubernetes < 1.28)', async () => {
    const err = await loadInPod(docs, pod, promflux(pod), {}).catch((e: unknown) => e);
    expect(String(err)).toContain('PROMFLUX__PIPELINE__SHARD: must be "index/count"');
  });

  it('has a metrics Service with the prometheus.io scrape annotations', () => {
    const metrics = docs.find(
      (d) => d.kind === 'Service' && d.metadata.annotations?.['prometheus.io/scrape'] === 'true',
    );
    expect(metrics?.spec?.clusterIP).not.toBe('None');
    expect(metrics!.metadata.annotations).toMatchObject({
      'prometheus.io/port': String(PORT),
      'prometheus.io/path': '/metrics',
    });
  });
});
