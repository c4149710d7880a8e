import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { c as tarCreate } from 'tar';
import { LabError } from '../../errors.js';
import { connectEngine, engineError, statusOf } from './engine.js';

/** The installed socketlab package (dist/hosts/docker/ -> package root; also from src/ under vitest). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_TAG = 'socketlab:lab';
/** Pulled when it can be; scripts/docker-base.sh makes LOCAL_BASE where no registry is reachable. */
export const DEFAULT_BASE = 'node:20-bookworm-slim';
export const LOCAL_BASE = 'socketlab-base:bookworm';
/** Debian packages for the labs' own commands, and a program each one provides (checked in the base). */
export const LAB_TOOLS: Record<string, string> = {
  iproute2: 'ss',
  'iputils-ping': 'ping',
  tcpdump: 'tcpdump',
  'bind9-dnsutils': 'dig',
  'isc-dhcp-client': 'dhclient',
  udhcpc: 'udhcpc',
  radvd: 'radvd',
  'dnsmasq-base': 'dnsmasq',
  procps: 'ps',
  'net-tools': 'netstat',
  // lab 12-web: its web servers (python3 -m http.server, openssl s_server) and its browser (curl)
  python3: 'python3',
  openssl: 'openssl',
  curl: 'curl',
};
const MIN_NODE: [number, number] = [20, 19];

/** What goes into the image from the installed package; node_modules is added as the production closure. */
const PACKAGE_PARTS = ['package.json', 'dist', 'labs', 'examples', 'patches'];

/** The Dockerfile of the socketlab image: the package at /opt/socketlab, the lab tools (apt-get only if the base lacks them). */
export function imageDockerfile(base: string): string {
  const tools = Object.entries(LAB_TOOLS);
  return `# socketlab image, built by "socketlab image build" from the installed package.
FROM ${base}
COPY socketlab/ /opt/socketlab/
RUN missing=""; for t in ${tools.map(([, t]) => t).join(' ')}; do command -v $t >/dev/null 2>&1 || missing=yes; done; \\
    if [ -n "$missing" ]; then apt-get update && apt-get install -y --no-install-recommends ${tools.map(([p]) => p).join(' ')} \\
      && rm -rf /var/lib/apt/lists/*; fi
RUN chmod 0755 /opt/socketlab/dist/cli.js && ln -sf /opt/socketlab/dist/cli.js /usr/local/bin/socketlab && mkdir -p /run/socketlab
ENV SOCKETLAB_LOG_SYNC=1
ENTRYPOINT ["socketlab"]
CMD ["--help"]
`;
}

/** Finds the directory Node would load NAME from, looking up from FROM (nested first, then hoisted). */
function resolvePackageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The production dependency closure of ROOT as [source dir, path in the image package], following
 * package.json dependencies the way Node resolves them, so dev tools (typescript, vitest) stay out
 * and a global install (dependencies hoisted above the package) works as well as a checkout.
 */
export function productionModules(root: string): [string, string][] {
  const out = new Map<string, string>();
  const walk = (pkgDir: string): void => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const dir = resolvePackageDir(name, pkgDir);
      if (!dir || out.has(dir)) continue; // a missing optional dependency is fine
      const rel = relative(root, dir);
      out.set(dir, rel.startsWith('..') ? join('node_modules', name) : rel);
      walk(dir);
    }
  };
  walk(root);
  return [...out.entries()];
}

/** Writes the build context (Dockerfile + socketlab/) into a temp dir and tars it; the caller removes the dir. */
async function buildContext(base: string): Promise<{ dir: string; tarFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'socketlab-image-'));
  try {
    const pkg = join(dir, 'ctx', 'socketlab');
    for (const part of PACKAGE_PARTS) {
      if (existsSync(join(PACKAGE_ROOT, part))) cpSync(join(PACKAGE_ROOT, part), join(pkg, part), { recursive: true, dereference: true });
    }
    if (!existsSync(join(pkg, 'dist', 'cli.js'))) {
      throw new LabError('LAB_ERR_DOCKER_IMAGE', `${PACKAGE_ROOT} has no dist/cli.js: run npm run build first`);
    }
    for (const [src, rel] of productionModules(PACKAGE_ROOT)) {
      // a package's own node_modules holds the walk's nested entries (copied each to its place) or dev leftovers
      cpSync(src, join(pkg, rel), { recursive: true, dereference: true, filter: (s) => relative(src, s).split(sep)[0] !== 'node_modules' });
    }
    writeFileSync(join(dir, 'ctx', 'Dockerfile'), imageDockerfile(base));
    const tarFile = join(dir, 'context.tar');
    await tarCreate({ cwd: join(dir, 'ctx'), file: tarFile, portable: true }, ['Dockerfile', 'socketlab']);
    return { dir, tarFile };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw engineError(err);
  }
}

async function pull(docker: Docker, name: string): Promise<boolean> {
  try {
    const stream = await docker.pull(name);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
    return imageExists(docker, name);
  } catch {
    return false;
  }
}

/** Which base to build on: --base as given (must be on the engine), else node:20-bookworm-slim, else the debootstrap base. */
async function chooseBase(docker: Docker, base: string | undefined): Promise<string> {
  const fix = `run scripts/docker-base.sh (debootstrap, no registry needed) and then socketlab image build --base ${LOCAL_BASE}`;
  if (base !== undefined) {
    if (await imageExists(docker, base)) return base;
    throw new LabError('LAB_ERR_DOCKER_IMAGE', `base image ${base} is not on the Docker engine: docker pull ${base}, or ${fix}`);
  }
  if (await imageExists(docker, DEFAULT_BASE)) return DEFAULT_BASE;
  if (await imageExists(docker, LOCAL_BASE)) return LOCAL_BASE;
  if (await pull(docker, DEFAULT_BASE)) return DEFAULT_BASE;
  throw new LabError('LAB_ERR_DOCKER_IMAGE', `base image ${DEFAULT_BASE} is not here and could not be pulled (no registry?): ${fix}`);
}

/** Runs `node -p process.versions.node` in a throw-away container of BASE (no network). */
async function baseNodeVersion(docker: Docker, base: string): Promise<string | undefined> {
  const c = await docker.createContainer({
    Image: base,
    Entrypoint: ['node'],
    Cmd: ['-p', 'process.versions.node'],
    NetworkDisabled: true,
    Labels: { 'socketlab.probe': 'node-version' },
  });
  try {
    try {
      await c.start();
    } catch (err) {
      if (/executable file not found|no such file or directory/i.test(String((err as Error).message))) return undefined;
      throw err;
    }
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const logs = (await c.logs({ stdout: true, stderr: false, follow: false })) as Buffer;
    // non-TTY logs carry an 8-byte frame header per chunk
    const text = logs.length > 8 ? logs.subarray(8).toString('utf8').trim() : '';
    return StatusCode === 0 ? text : undefined;
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

export interface ImageBuildResult {
  tag: string;
  base: string;
  node: string;
  id: string;
  sizeBytes: number;
}

/** `socketlab image build`: the installed package on top of BASE, tagged TAG. */
export async function buildImage(opts: { base?: string; tag?: string; onProgress?: (line: string) => void } = {}): Promise<ImageBuildResult> {
  const tag = opts.tag ?? DEFAULT_TAG;
  const docker = await connectEngine();
  const base = await chooseBase(docker, opts.base);
  const node = await baseNodeVersion(docker, base).catch((err: unknown) => {
    throw engineError(err);
  });
  if (!node) throw new LabError('LAB_ERR_DOCKER_IMAGE', `base image ${base} has no node: pick a base with Node ${MIN_NODE.join('.')}+ (${DEFAULT_BASE}) or make one with scripts/docker-base.sh`);
  const [major = 0, minor = 0] = node.split('.').map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    throw new LabError('LAB_ERR_DOCKER_IMAGE', `base image ${base} has node ${node}; socketlab needs Node ${MIN_NODE.join('.')}+`);
  }
  const ctx = await buildContext(base);
  try {
    const stream = await docker.buildImage(createReadStream(ctx.tarFile), { t: tag, rm: true, forcerm: true, labels: { 'socketlab.image': 'lab', 'socketlab.base': base } });
    let failure: string | undefined;
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (ev: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (ev.error) failure = ev.errorDetail?.message ?? ev.error;
          if (ev.stream?.trim()) opts.onProgress?.(ev.stream.trimEnd());
        },
      ),
    ).catch((err: unknown) => {
      failure ??= (err as Error).message;
    });
    if (failure) throw new LabError('LAB_ERR_DOCKER', `building ${tag} on ${base} failed: ${failure.trim()}`);
  } finally {
    rmSync(ctx.dir, { recursive: true, force: true });
  }
  const info = await docker.getImage(tag).inspect();
  return { tag, base, node, id: info.Id, sizeBytes: info.Size };
}
