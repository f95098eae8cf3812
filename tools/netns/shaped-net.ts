// Runs a ShapedNetPlan (plan.ts): creates the namespaces, links and tbf qdiscs, starts
// processes inside the nodes, and removes everything again — on destroy(), when the process
// exits (normally or by an uncaught error), and on SIGINT/SIGTERM/SIGHUP. A run killed with
// SIGKILL leaves its namespaces behind; the next ShapedNet.create() removes those of processes
// that are gone. Needs root (CAP_NET_ADMIN) and iproute2 (`ip`, `tc`: on PATH, or in the folder
// TABTRON_IPROUTE2_DIR names, see iproute2.ts). Linux only.
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { IPROUTE2_DIR_ENV, resolveIproute2 } from './iproute2';
import { orphanedNamespaces, planShapedNet, type ShapedNetPlan, type ShapedNetSpec, type ShapedNode } from './plan';

export interface RunResult {
  stdout: string;
  stderr: string;
}

function run(argv: string[]): string {
  try {
    const [cmd, ...args] = resolveIproute2(argv);
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`shaped net: \`${argv.join(' ')}\` failed: ${(err.stderr || err.message).trim()}`);
  }
}

function tryRun(argv: string[]): void {
  try {
    run(argv);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Names of every network namespace (`ip netns list` prints "name" or "name (id: n)"). */
export function listNamespaces(): string[] {
  return run(['ip', 'netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

/** Why this process cannot build a shaped net, or null when it can. */
export function shapedNetUnavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (CAP_NET_ADMIN); run as root, as CI does';
  try {
    run(['ip', '-V']);
    run(['tc', '-V']);
  } catch (e) {
    return process.env[IPROUTE2_DIR_ENV]
      ? `iproute2 from ${IPROUTE2_DIR_ENV} does not run: ${(e as Error).message}`
      : `iproute2 (\`ip\`, \`tc\`) is not installed (or set ${IPROUTE2_DIR_ENV} to a folder holding them)`;
  }
  return null;
}

const live = new Set<ShapedNet>();
let hooked = false;

function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const net of [...live]) net.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const net of [...live]) net.destroy();
      process.kill(process.pid, sig); // handler removed by once(): the default action ends the process
    });
  }
}

export class ShapedNet {
  private readonly children = new Set<ChildProcess>();
  /** namespaces this net added (a failed create removes only those) */
  private readonly created = new Set<string>();
  private destroyed = false;

  private constructor(readonly plan: ShapedNetPlan) {}

  /** Builds the net (after removing nets left by dead processes); on any failure removes what it made. */
  static create(spec: Omit<ShapedNetSpec, 'pid' | 'tag'> & { tag?: string }): ShapedNet {
    const why = shapedNetUnavailable();
    if (why) throw new Error(`shaped net: ${why}`);
    for (const ns of orphanedNamespaces(listNamespaces(), alive)) tryRun(['ip', 'netns', 'del', ns]);
    const plan = planShapedNet({ ...spec, pid: process.pid, tag: spec.tag ?? randomBytes(3).toString('hex') });
    const net = new ShapedNet(plan);
    hookCleanup();
    live.add(net);
    try {
      for (const argv of plan.setup) {
        run(argv);
        if (argv[1] === 'netns' && argv[2] === 'add') net.created.add(argv[3]);
      }
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  get nodes(): readonly ShapedNode[] {
    return this.plan.nodes;
  }

  /** Starts `argv` inside node i's namespace (killed by destroy() if still running). */
  spawn(node: number, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const n = this.plan.nodes[node];
    if (!n) throw new Error(`shaped net: no node ${node} (${this.plan.nodes.length} nodes)`);
    if (this.destroyed) throw new Error('shaped net: already destroyed');
    const [cmd, ...args] = resolveIproute2(['ip', 'netns', 'exec', n.ns, ...argv]);
    const child = spawn(cmd, args, opts);
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** The tbf qdiscs and addresses as the kernel reports them (JSON from `tc -j`, `ip -j`). */
  inspect(): Array<{ node: number; up: unknown[]; down: unknown[]; addrs: unknown[] }> {
    return this.plan.nodes.map((n) => ({
      node: n.index,
      up: JSON.parse(run(['tc', '-j', '-n', n.ns, 'qdisc', 'show', 'dev', n.dev])),
      down: JSON.parse(run(['tc', '-j', '-n', this.plan.hub, 'qdisc', 'show', 'dev', n.hubDev])),
      addrs: JSON.parse(run(['ip', '-j', '-n', n.ns, 'addr', 'show', 'dev', n.dev])),
    }));
  }

  /** Kills the processes it started and deletes every namespace (and with them links and qdiscs). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const argv of this.plan.teardown) if (this.created.has(argv[3])) tryRun(argv);
    live.delete(this);
  }
}
