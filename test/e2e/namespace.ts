/**
 * A private mount + network + pid namespace for tests that need a real host name on a real port:
 * its own loopback with test addresses, its own /etc/hosts, and /etc, /var/lib and /run made
 * writable through throwaway overlays, so daemons and tools inside (dockerd, podman, skopeo's blob
 * cache, CNI locks) write nothing on the machine. Killing the namespace's init kills every process
 * in it, so a test that dies leaves nothing running.
 *
 * The fakes stay in the test process: each forwarded port is reached inside the namespace on
 * 127.0.0.1 through a unix socket in the shared file system (unix sockets cross network namespaces).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { runProcess, type RunOptions, type RunResult } from '../support/helper';

export interface NamespaceOptions {
  /** A private directory for the namespace's own files (overlays, sockets, staged files). */
  dir: string;
  /** Host name → address; each address is added to the namespace's loopback. */
  hosts: Record<string, string>;
  /** Files to create inside the namespace, by absolute path under /etc (e.g. certs.d). */
  files?: Record<string, string>;
  /** Loopback ports of the test process to reach from inside the namespace. */
  forward?: number[];
}

export interface Namespace {
  /** Host pid of the namespace's init. */
  pid: number;
  /** Inside the namespace, `http://127.0.0.1:<port>` reaches forwarded port N of the test. */
  ports: Map<number, number>;
  run(command: string, args: string[], options: RunOptions): Promise<RunResult>;
  /** A long-running process inside the namespace, its output appended to `logFile`. */
  start(command: string, args: string[], options: { env: NodeJS.ProcessEnv; logFile: string }): ChildProcess;
  close(): Promise<void>;
}

// Runs as the namespace's init once the mounts are in place: bridges 127.0.0.1:<random> to each
// unix socket given, prints the ports, and ends (taking the namespace with it) when stdin closes,
// i.e. when the test process goes away for whatever reason.
const BRIDGE = `
const net = require('node:net');
const ports = [];
let pending = process.argv.length; // one per socket, plus the call below
const ready = () => { if (--pending === 0) process.stdout.write(JSON.stringify(ports) + '\\n'); };
process.argv.slice(1).forEach((path, i) => {
  const server = net.createServer((client) => {
    const upstream = net.connect(path);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => { ports[i] = server.address().port; ready(); });
});
ready();
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
`;

// Overlays rather than copies: the tools see the machine's own configuration (policy.json,
// registries.conf, CA bundle) and may write where they always do; nothing reaches the real files.
const SETUP = `
set -eu
ov=$1 stage=$2 node=$3; shift 3
addresses=$1; shift
ip link set lo up
for address in $addresses; do ip addr add "$address/32" dev lo; done
mount -t tmpfs -o mode=0700 tmpfs "$ov"
for d in /etc /var/lib; do
  mkdir -p "$ov$d/upper" "$ov$d/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$ov$d/upper,workdir=$ov$d/work" "$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run
cp -R "$stage/." /
exec "$node" -e "$BRIDGE" "$@"
`;

export async function startNamespace(options: NamespaceOptions): Promise<Namespace> {
  const { dir } = options;
  const stage = join(dir, 'stage');
  const files: Record<string, string> = {
    '/etc/hosts': [
      '127.0.0.1 localhost',
      '::1 localhost',
      ...Object.entries(options.hosts).map(([name, address]) => `${address} ${name}`),
      '',
    ].join('\n'),
    ...options.files,
  };
  for (const [path, content] of Object.entries(files)) {
    if (!path.startsWith('/etc/')) throw new Error(`namespace files live under /etc: ${path}`);
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    writeFileSync(join(stage, path), content);
  }
  mkdirSync(join(dir, 'overlay'));

  const forward = options.forward ?? [];
  const bridges = await Promise.all(
    forward.map((port, i) => bridgeUnixToLoopback(join(dir, `forward-${i}.sock`), port)),
  );
  const addresses = [...new Set(Object.values(options.hosts))].join(' ');
  // prettier-ignore
  const init = spawn('unshare', [
    '--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private',
    'sh', '-c', SETUP, 'setup', join(dir, 'overlay'), stage, process.execPath, addresses,
    ...bridges.map((b) => b.path),
  ], { env: { PATH: process.env.PATH, BRIDGE }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => init.once('close', () => resolve()));
  const daemons: ChildProcess[] = [];

  const close = async (): Promise<void> => {
    // SIGKILL to the namespace's init: the kernel then kills everything inside it.
    const inner = innerInit(init.pid);
    if (inner !== undefined) killQuietly(inner);
    init.kill('SIGKILL');
    await exited;
    await Promise.all(
      daemons.map((d) =>
        d.exitCode !== null || d.signalCode !== null
          ? undefined
          : new Promise<void>((resolve) => d.once('close', () => resolve())),
      ),
    );
    await Promise.all(bridges.map((b) => b.close()));
  };

  let ports: number[];
  try {
    ports = await readyLine(init);
  } catch (error) {
    await close();
    throw error;
  }
  const pid = innerInit(init.pid);
  if (pid === undefined) {
    await close();
    throw new Error('the namespace started but its init process could not be found');
  }

  const enter = (command: string, args: string[]) => [
    '--target',
    String(pid),
    '--mount',
    '--net',
    '--pid',
    '--wd=/',
    '--',
    command,
    ...args,
  ];
  return {
    pid,
    ports: new Map(forward.map((port, i) => [port, ports[i]])),
    run: (command, args, runOptions) => runProcess('nsenter', enter(command, args), runOptions),
    start(command, args, { env, logFile }) {
      const log = openSync(logFile, 'a');
      const daemon = spawn('nsenter', enter(command, args), { env, stdio: ['ignore', log, log] });
      closeSync(log);
      daemons.push(daemon);
      return daemon;
    },
    close,
  };
}

/** The namespace's init is the only child of `unshare --fork`. */
function innerInit(unsharePid: number | undefined): number | undefined {
  if (unsharePid === undefined) return undefined;
  try {
    const children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
    return children ? Number(children.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function readyLine(init: ChildProcess): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    init.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    init.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as number[]);
    });
    init.once('close', (code) =>
      reject(new Error(`the namespace did not start (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

interface Bridge {
  path: string;
  close(): Promise<void>;
}

async function bridgeUnixToLoopback(path: string, port: number): Promise<Bridge> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
