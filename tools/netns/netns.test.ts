// The shaped-network harness: its plan as data everywhere, and (as root, as in CI) the real
// namespaces, links, addresses and tbf qdiscs it creates, a TCP connection across them, and
// that destroy() leaves nothing behind. Throughput is measured by the self-check
// (tools/netns/selfcheck.ts), not here: no timed assertions in tests.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { iproute2Argv, resolveIproute2 } from './iproute2';
import { orphanedNamespaces, planShapedNet, tbfArgs } from './plan';
import { listNamespaces, ShapedNet, shapedNetUnavailable } from './shaped-net';

describe('shaped net plan', () => {
  it('puts each node in its own namespace behind a bridge in a hub namespace, tbf on its uplink', () => {
    const p = planShapedNet({ tag: 'ab1', pid: 42, nodes: 2, upMbit: [10, 50], downMbit: [null, 20] });
    expect(p.hub).toBe('tabtron-42-ab1-hub');
    expect(p.nodes.map((n) => [n.ns, n.ip, n.hubDev, n.upMbit, n.downMbit])).toEqual([
      ['tabtron-42-ab1-n0', '10.213.0.1', 'n0', 10, null],
      ['tabtron-42-ab1-n1', '10.213.0.2', 'n1', 50, 20],
    ]);
    const cmds = p.setup.map((c) => c.join(' '));
    expect(cmds).toContain('ip -n tabtron-42-ab1-hub link add n1 type veth peer name eth0 netns tabtron-42-ab1-n1');
    expect(cmds).toContain('tc -n tabtron-42-ab1-n0 qdisc add dev eth0 root tbf rate 10mbit burst 16384 latency 100ms');
    expect(cmds).toContain('tc -n tabtron-42-ab1-hub qdisc add dev n1 root tbf rate 20mbit burst 25000 latency 100ms');
    expect(cmds.filter((c) => c.includes(' qdisc add '))).toHaveLength(3);
    // nothing is made outside the net's own namespaces
    expect(p.setup.every((c) => c[0] === 'ip' || c[0] === 'tc')).toBe(true);
    expect(p.setup.every((c) => c[1] === '-n' || (c[1] === 'netns' && c[2] === 'add'))).toBe(true);
    expect(p.teardown.map((c) => c.join(' '))).toEqual([
      'ip netns del tabtron-42-ab1-n0',
      'ip netns del tabtron-42-ab1-n1',
      'ip netns del tabtron-42-ab1-hub',
    ]);
  });

  it('sizes the tbf bucket to 10 ms of traffic, at least 16 KiB', () => {
    expect(tbfArgs(10)).toEqual(['tbf', 'rate', '10mbit', 'burst', '16384', 'latency', '100ms']);
    expect(tbfArgs(1000)).toEqual(['tbf', 'rate', '1000mbit', 'burst', '1250000', 'latency', '100ms']);
  });

  it('rejects bad specs naming the field', () => {
    expect(() => planShapedNet({ tag: 'x', pid: 1, nodes: 2, upMbit: 0 })).toThrow(
      'upMbit must be a rate in Mbit/s in (0, 100000], got 0',
    );
    expect(() => planShapedNet({ tag: 'x', pid: 1, nodes: 2, upMbit: [10] })).toThrow(
      'upMbit lists 1 rates for 2 nodes',
    );
    expect(() => planShapedNet({ tag: 'X!', pid: 1, nodes: 2, upMbit: 10 })).toThrow('tag must be 1-8 of [a-z0-9]');
    expect(() => planShapedNet({ tag: 'x', pid: 1, nodes: 2, upMbit: 10, subnet: '10.0.300' })).toThrow(
      'subnet must be three octets',
    );
  });

  it('finds namespaces left by dead harness processes, and only those', () => {
    const names = ['tabtron-10-a1-hub', 'tabtron-10-a1-n0', 'tabtron-11-b-n3', 'other', 'tabtron-x-a-hub'];
    expect(orphanedNamespaces(names, (pid) => pid === 11)).toEqual(['tabtron-10-a1-hub', 'tabtron-10-a1-n0']);
  });
});

describe('iproute2 location', () => {
  const has = (paths: string[]) => (p: string) => paths.includes(p);
  it('runs ip and tc from PATH unless TABTRON_IPROUTE2_DIR names a folder', () => {
    expect(resolveIproute2(['tc', '-n', 'x', 'qdisc'], {}, has([]))).toEqual(['tc', '-n', 'x', 'qdisc']);
    const env = { TABTRON_IPROUTE2_DIR: '/opt/net/' };
    expect(resolveIproute2(['ip', 'netns', 'list'], env, has(['/opt/net/ip']))).toEqual([
      '/opt/net/ip',
      'netns',
      'list',
    ]);
  });

  it("hands the folder's lib/ to the dynamic loader, not to LD_LIBRARY_PATH (the ranks inherit that)", () => {
    const env = { TABTRON_IPROUTE2_DIR: '/opt/net' };
    const fs = has(['/opt/net/ip', '/opt/net/tc', '/opt/net/lib', '/lib64/ld-linux-x86-64.so.2']);
    expect(resolveIproute2(['ip', 'netns', 'exec', 'n0', 'node'], env, fs)).toEqual([
      '/lib64/ld-linux-x86-64.so.2',
      '--library-path',
      '/opt/net/lib',
      '/opt/net/ip',
      'netns',
      'exec',
      'n0',
      'node',
    ]);
  });

  it('names the variable and the missing file', () => {
    const env = { TABTRON_IPROUTE2_DIR: '/opt/net' };
    expect(() => iproute2Argv('tc', env, has(['/opt/net/ip']))).toThrow(
      'TABTRON_IPROUTE2_DIR=/opt/net has no `tc` (looked for /opt/net/tc)',
    );
    expect(() => iproute2Argv('ip', env, has(['/opt/net/ip', '/opt/net/lib']))).toThrow(
      'has lib/, but no dynamic loader was found',
    );
  });
});

const unavailable = shapedNetUnavailable();

describe.skipIf(unavailable !== null)(
  `shaped net in the kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let net: ShapedNet | null = null;
    afterEach(() => net?.destroy());

    it('creates what the plan says, carries TCP between nodes, and destroy() removes it all', async () => {
      const linksBefore = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
      net = ShapedNet.create({ nodes: 3, upMbit: [10, 50, 100], downMbit: [20, null, null] });
      const mine = [net.plan.hub, ...net.nodes.map((n) => n.ns)];
      expect(listNamespaces()).toEqual(expect.arrayContaining(mine));
      const seen = net.inspect();
      const rate = (q: unknown[]) =>
        (q as Array<{ kind: string; options: { rate: number } }>).find((x) => x.kind === 'tbf');
      expect(seen.map((s) => rate(s.up)?.options.rate)).toEqual([1_250_000, 6_250_000, 12_500_000]);
      expect(seen.map((s) => rate(s.down)?.options.rate ?? null)).toEqual([2_500_000, null, null]);
      const addrs = seen.map((s) =>
        (s.addrs as Array<{ addr_info: Array<{ family: string; local: string }> }>)[0].addr_info
          .filter((a) => a.family === 'inet')
          .map((a) => a.local),
      );
      expect(addrs).toEqual([['10.213.0.1'], ['10.213.0.2'], ['10.213.0.3']]);
      // the host namespace gained no interface
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).toBe(linksBefore);

      // node 2 listens, node 0 connects across the bridge and gets its message echoed back
      const server = net.spawn(2, [
        process.execPath,
        '-e',
        "require('net').createServer(s=>s.pipe(s)).listen(7000,'10.213.0.3',()=>console.log('up'))",
      ]);
      await new Promise<void>((res) => server.stdout!.once('data', () => res()));
      const client = net.spawn(0, [
        process.execPath,
        '-e',
        "const s=require('net').connect(7000,'10.213.0.3',()=>s.end('hello'));s.on('data',d=>process.stdout.write(d))",
      ]);
      let echoed = '';
      client.stdout!.on('data', (d) => (echoed += d));
      await new Promise((res) => client.on('exit', res));
      expect(echoed).toBe('hello');

      net.destroy();
      expect(server.killed || server.exitCode !== null || server.signalCode !== null).toBe(true);
      const after = listNamespaces();
      for (const ns of mine) expect(after).not.toContain(ns);
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).toBe(linksBefore);
    });

    it('runs iproute2 from TABTRON_IPROUTE2_DIR through the dynamic loader; ranks do not inherit its lib/', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'iproute2-'));
      const saved = process.env.TABTRON_IPROUTE2_DIR;
      try {
        for (const tool of ['ip', 'tc']) {
          const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
          copyFileSync(found, join(dir, tool));
        }
        mkdirSync(join(dir, 'lib'));
        process.env.TABTRON_IPROUTE2_DIR = dir;
        expect(shapedNetUnavailable()).toBeNull();
        net = ShapedNet.create({ nodes: 1, upMbit: 10, tag: 'dir' });
        const up = net.inspect()[0].up as Array<{ kind: string }>;
        expect(up.map((q) => q.kind)).toContain('tbf');
        const child = net.spawn(0, [process.execPath, '-e', 'console.log(process.env.LD_LIBRARY_PATH ?? "unset")'], {
          env: { ...process.env, LD_LIBRARY_PATH: '/from/parent' },
        });
        let said = '';
        child.stdout!.on('data', (d) => (said += d));
        await new Promise((res) => child.on('exit', res));
        expect(said.trim()).toBe('/from/parent');
      } finally {
        if (saved === undefined) delete process.env.TABTRON_IPROUTE2_DIR;
        else process.env.TABTRON_IPROUTE2_DIR = saved;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('removes only what it made when a command fails half-way, and says which command', () => {
      net = ShapedNet.create({ nodes: 2, upMbit: 10, tag: 'dup' });
      const first = listNamespaces().filter((n) => n.includes('-dup-'));
      expect(first).toHaveLength(3);
      // the same names again: adding the hub fails, the first net is left alone
      expect(() => ShapedNet.create({ nodes: 2, upMbit: 10, tag: 'dup' })).toThrow(
        /shaped net: `ip netns add tabtron-\d+-dup-hub` failed: .*exist/,
      );
      expect(listNamespaces().filter((n) => n.includes('-dup-'))).toEqual(first);
      // a rate tc refuses: fails after the hub and both nodes exist, and removes them
      expect(() => ShapedNet.create({ nodes: 2, upMbit: [10, 1e-9], tag: 'half' })).toThrow(
        /`tc -n tabtron-\d+-half-n1 qdisc add dev eth0 root tbf rate 1e-9mbit .*` failed/,
      );
      expect(listNamespaces().filter((n) => n.includes('-half-'))).toEqual([]);
    });
  },
);
