// A shaped network as data: which namespaces, links, addresses and tbf qdiscs to create, and
// how to remove them. Pure (the commands are argv lists); shaped-net.ts runs them.
//
//   hub namespace  tabtron-<pid>-<tag>-hub : bridge br0, one veth end n<i> per node
//   node namespace tabtron-<pid>-<tag>-n<i>: loopback + eth0 (the veth's other end), address
//                                            <subnet>.<i+1>/24, egress (upload) limited by tbf
//   optional download limit: tbf on the hub's end n<i> (the hub's egress towards node i)
// Nothing is created in the namespace the harness runs in: the veth pairs are made inside the
// hub with their peer end moved straight into the node, so the host's interfaces, routes and
// addresses are untouched and any subnet is free to use. Deleting the namespaces removes
// everything (a veth pair dies with either end).

export const NAME_PREFIX = 'tabtron';

export interface ShapedNetSpec {
  /** distinguishes concurrent nets of one process: [a-z0-9]{1,8} */
  tag: string;
  /** the owner process (names carry it so a later run can remove what a killed one left) */
  pid: number;
  nodes: number;
  /** upload limit of each node (Mbit/s); one number for all, or one per node */
  upMbit: number | number[];
  /** download limit of each node (Mbit/s), null: unlimited */
  downMbit?: number | Array<number | null> | null;
  /** first three octets of the nodes' /24 (default 10.213.0) */
  subnet?: string;
}

export interface ShapedNode {
  index: number;
  ns: string;
  ip: string;
  /** the node's interface, in its namespace */
  dev: 'eth0';
  /** the hub's end of the node's link */
  hubDev: string;
  upMbit: number;
  downMbit: number | null;
}

export interface ShapedNetPlan {
  hub: string;
  nodes: ShapedNode[];
  setup: string[][];
  teardown: string[][];
}

/** tbf arguments for a rate: a bucket of 10 ms of traffic (≥ 16 KiB, so a full-size segment
 *  always fits) and a queue of at most 100 ms behind it. */
export function tbfArgs(mbit: number): string[] {
  const bytesPerSec = (mbit * 1e6) / 8;
  const burst = Math.max(16 * 1024, Math.ceil(bytesPerSec / 100));
  return ['tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '100ms'];
}

function perNode(v: number | Array<number | null> | null | undefined, n: number, what: string): Array<number | null> {
  const list = Array.isArray(v) ? v : Array(n).fill(v ?? null);
  if (list.length !== n) throw new Error(`shaped net: ${what} lists ${list.length} rates for ${n} nodes`);
  for (const x of list)
    if (x !== null && !(typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 100_000))
      throw new Error(`shaped net: ${what} must be a rate in Mbit/s in (0, 100000], got ${JSON.stringify(x)}`);
  return list;
}

export function netName(pid: number, tag: string, what: string): string {
  return `${NAME_PREFIX}-${pid}-${tag}-${what}`;
}

export function planShapedNet(spec: ShapedNetSpec): ShapedNetPlan {
  const { tag, pid, nodes: n } = spec;
  if (!/^[a-z0-9]{1,8}$/.test(tag))
    throw new Error(`shaped net: tag must be 1-8 of [a-z0-9], got ${JSON.stringify(tag)}`);
  if (!Number.isInteger(pid) || pid < 1) throw new Error(`shaped net: pid must be a positive integer, got ${pid}`);
  if (!Number.isInteger(n) || n < 1 || n > 250) throw new Error(`shaped net: nodes must be 1 to 250, got ${n}`);
  const subnet = spec.subnet ?? '10.213.0';
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(subnet) || subnet.split('.').some((o) => Number(o) > 255))
    throw new Error(`shaped net: subnet must be three octets like "10.213.0", got ${JSON.stringify(subnet)}`);
  const up = perNode(spec.upMbit, n, 'upMbit');
  if (up.includes(null)) throw new Error('shaped net: upMbit must be set for every node');
  const down = perNode(spec.downMbit, n, 'downMbit');
  const hub = netName(pid, tag, 'hub');
  const setup: string[][] = [
    ['ip', 'netns', 'add', hub],
    ['ip', '-n', hub, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', hub, 'link', 'add', 'br0', 'type', 'bridge'],
    ['ip', '-n', hub, 'link', 'set', 'br0', 'up'],
  ];
  const nodes: ShapedNode[] = [];
  for (let i = 0; i < n; i++) {
    const node: ShapedNode = {
      index: i,
      ns: netName(pid, tag, `n${i}`),
      ip: `${subnet}.${i + 1}`,
      dev: 'eth0',
      hubDev: `n${i}`,
      upMbit: up[i]!,
      downMbit: down[i],
    };
    nodes.push(node);
    setup.push(
      ['ip', 'netns', 'add', node.ns],
      ['ip', '-n', node.ns, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', hub, 'link', 'add', node.hubDev, 'type', 'veth', 'peer', 'name', node.dev, 'netns', node.ns],
      ['ip', '-n', hub, 'link', 'set', node.hubDev, 'master', 'br0'],
      ['ip', '-n', hub, 'link', 'set', node.hubDev, 'up'],
      ['ip', '-n', node.ns, 'addr', 'add', `${node.ip}/24`, 'dev', node.dev],
      ['ip', '-n', node.ns, 'link', 'set', node.dev, 'up'],
      ['tc', '-n', node.ns, 'qdisc', 'add', 'dev', node.dev, 'root', ...tbfArgs(node.upMbit)],
    );
    if (node.downMbit !== null)
      setup.push(['tc', '-n', hub, 'qdisc', 'add', 'dev', node.hubDev, 'root', ...tbfArgs(node.downMbit)]);
  }
  const teardown = [...nodes.map((x) => ['ip', 'netns', 'del', x.ns]), ['ip', 'netns', 'del', hub]];
  return { hub, nodes, setup, teardown };
}

/** Namespaces named by a harness process that is no longer running (left by a killed run). */
export function orphanedNamespaces(names: readonly string[], alive: (pid: number) => boolean): string[] {
  const re = new RegExp(`^${NAME_PREFIX}-(\\d+)-[a-z0-9]{1,8}-(hub|n\\d+)$`);
  return names.filter((name) => {
    const m = re.exec(name);
    return m !== null && !alive(Number(m[1]));
  });
}
