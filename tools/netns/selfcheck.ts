// Self-check of the shaped network: does tbf in network namespaces really limit throughput?
// For each rate, two nodes; node 1 runs a TCP sink, node 0 sends it a block of bytes; the sink
// times the transfer from its first to its last byte. Then the same link is read by
// TcpTransport's LinkMeter (meter-probe.ts): the throughput the admin page would show. Prints one JSON object; exits 1 when a
// measured rate is more than --tolerance (default 15%) off the configured one. Needs root.
//   npx tsx tools/netns/selfcheck.ts [--mbit 10,50] [--seconds 3] [--tolerance 0.15] [--json]
import { parseArgs } from 'node:util';
import { ShapedNet } from './shaped-net';

const { values } = parseArgs({
  options: {
    mbit: { type: 'string', default: '10,50' },
    seconds: { type: 'string', default: '3' },
    tolerance: { type: 'string', default: '0.15' },
    json: { type: 'boolean', default: false },
  },
});

const SINK = `
const net = require('net');
net.createServer((s) => {
  let bytes = 0, first = 0;
  s.on('data', (d) => { if (!first) first = performance.now(); bytes += d.length; });
  s.on('end', () => { process.stdout.write(JSON.stringify({ bytes, ms: performance.now() - first }) + '\\n'); process.exit(0); });
}).listen(7001, process.argv[1], () => process.stdout.write('up\\n'));`;

const SOURCE = `
const total = Number(process.argv[2]);
const s = require('net').connect(7001, process.argv[1], () => {
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const pump = () => { while (sent < total) { sent += chunk.length; if (!s.write(chunk)) return s.once('drain', pump); } s.end(); };
  pump();
});`;

interface Check {
  mbit: number;
  bytes: number;
  seconds: number;
  measured_mbit: number;
  ratio: number;
  ok: boolean;
}

async function measure(mbit: number, seconds: number, tolerance: number): Promise<Check> {
  const net = ShapedNet.create({ nodes: 2, upMbit: mbit });
  try {
    const [, dst] = net.nodes;
    const sink = net.spawn(1, [process.execPath, '-e', SINK, dst.ip], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const lines: string[] = [];
    const waitLine = () =>
      new Promise<string>((res, rej) => {
        const onData = (d: Buffer) => {
          out += d;
          const i = out.indexOf('\n');
          if (i < 0) return;
          lines.push(out.slice(0, i));
          out = out.slice(i + 1);
          sink.stdout!.off('data', onData);
          res(lines.at(-1)!);
        };
        sink.stdout!.on('data', onData);
        sink.once('exit', (code) => rej(new Error(`sink exited (${code}) before reporting`)));
      });
    await waitLine(); // 'up'
    const bytes = Math.round((mbit * 1e6 * seconds) / 8);
    const result = waitLine();
    net.spawn(0, [process.execPath, '-e', SOURCE, dst.ip, String(bytes)], { stdio: 'inherit' });
    const { bytes: got, ms } = JSON.parse(await result) as { bytes: number; ms: number };
    const measured = (got * 8) / (ms / 1000) / 1e6;
    const ratio = measured / mbit;
    return {
      mbit,
      bytes: got,
      seconds: ms / 1000,
      measured_mbit: measured,
      ratio,
      ok: Math.abs(ratio - 1) <= tolerance,
    };
  } finally {
    net.destroy();
  }
}

/** The same link read by TcpTransport's LinkMeter at the receiver (what the admin page shows). */
async function meterProbe(mbit: number, seconds: number, tolerance: number): Promise<Check> {
  const net = ShapedNet.create({ nodes: 2, upMbit: mbit });
  try {
    const hosts = net.nodes.map((n) => n.ip);
    const count = 4;
    const bytes = Math.round((mbit * 1e6 * seconds) / 8 / count);
    const probe = (rank: number) =>
      net.spawn(
        rank,
        [process.execPath, '--import', 'tsx', PROBE, String(rank), ...hosts, '7002', String(bytes), String(count)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
    const [, receiver] = [probe(0), probe(1)];
    let out = '';
    receiver.stdout!.on('data', (d) => (out += d));
    await new Promise((res) => receiver.on('exit', res));
    const s = JSON.parse(out) as { timedBytesReceived: number; receiveMs: number; rate: number };
    const measured = (s.rate * 8) / 1e6;
    const ratio = measured / mbit;
    return {
      mbit,
      bytes: s.timedBytesReceived,
      seconds: s.receiveMs / 1000,
      measured_mbit: measured,
      ratio,
      ok: Math.abs(ratio - 1) <= tolerance,
    };
  } finally {
    net.destroy();
  }
}

const PROBE = new URL('./meter-probe.ts', import.meta.url).pathname;
const rates = values.mbit.split(',').map(Number);
const checks: Check[] = [];
const meter: Check[] = [];
for (const r of rates) {
  checks.push(await measure(r, Number(values.seconds), Number(values.tolerance)));
  meter.push(await meterProbe(r, Number(values.seconds), Number(values.tolerance)));
}
const report = {
  selfcheck: 'shaped-net',
  shaping: 'tbf egress limit on each node in its own network namespace, veth pairs to a bridge in a hub namespace',
  note: 'measured_mbit is TCP payload (goodput); tbf counts whole Ethernet frames, so about 0.95 of the rate is the ceiling',
  tolerance: Number(values.tolerance),
  checks,
  /** the same rates as TcpTransport's LinkMeter measures them at the receiver (the admin page's numbers) */
  transport_meter: meter,
  ok: [...checks, ...meter].every((c) => c.ok),
};
process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`);
process.exit(report.ok ? 0 : 1);
