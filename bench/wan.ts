// Training over home-internet links: the same small model, the same number of tokens, trained
// by data-parallel ranks in `sync` mode (gradients all-reduced every step) and in `diloco` mode
// (local_sgd: inner steps, then int8 pseudo-gradients averaged), each rank a Node process in its
// own network namespace whose upload is limited by tbf (tools/netns). Prints one JSON object:
//   {"shaping": "...", "links": [{"mbit": 10, "modes": [{"mode": "sync", "tokens", "tokens_per_s",
//    "bytes_per_token", "final_loss", "wall_s"}, {"mode": "diloco", "inner_steps", "compression", ...}]}]}
// tokens_per_s and wall_s cover the training loop (not process start or device setup);
// bytes_per_token counts every message byte every rank sent; final_loss is the validation loss
// after the last step (all replicas hold the same model then).
// Needs root (network namespaces).  npm run bench:wan -- --json [--mbit 10,50] [--dp 2] [--steps 60]
//   [--inner-steps 30] [--modes sync,diloco] [--latency-ms 0] [--eval-iters 8] [--verbose: ranks' events on stderr]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ShapedNet, shapedNetUnavailable } from '../tools/netns/shaped-net';
import { runWanRank, type WanRankJob } from './wan-rank';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    mbit: { type: 'string', default: '10,50' },
    dp: { type: 'string', default: '2' },
    steps: { type: 'string', default: '60' },
    'inner-steps': { type: 'string', default: '30' },
    compression: { type: 'string', default: 'int8' },
    modes: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'eval-iters': { type: 'string', default: '8' },
    port: { type: 'string', default: '7300' },
    child: { type: 'string' },
  },
});

type Mode = 'sync' | 'diloco';

interface ModeResult {
  mode: Mode;
  inner_steps?: number;
  compression?: string;
  tokens: number;
  tokens_per_s: number;
  bytes_per_token: number;
  final_loss: number;
  wall_s: number;
}

function overrides(mode: Mode, dp: number): Record<string, unknown> {
  const steps = Number(values.steps);
  return {
    global_num_gpus: dp,
    train_iters: steps,
    lr_decay_iters: steps,
    eval_interval: steps,
    eval_iters: Number(values['eval-iters']),
    ...(mode === 'diloco'
      ? {
          local_sgd: {
            inner_steps: Number(values['inner-steps']),
            compression: { type: values.compression, block_size: 256, error_feedback: true },
          },
        }
      : {}),
  };
}

async function runMode(mbit: number, mode: Mode): Promise<ModeResult> {
  const dp = Number(values.dp);
  const net = ShapedNet.create({ nodes: dp, upMbit: mbit });
  try {
    const hosts = net.nodes.map((n) => n.ip);
    const lines: Array<Record<string, unknown> & { rank: number; kind: string }> = [];
    let finished = 0;
    const children: ReturnType<typeof net.spawn>[] = [];
    await Promise.all(
      net.nodes.map(
        (_, rank) =>
          new Promise<void>((res, rej) => {
            const job: WanRankJob = {
              rank,
              hosts,
              port: Number(values.port),
              overrides: overrides(mode, dp),
              latencyMs: Number(values['latency-ms']),
            };
            const p = net.spawn(
              rank,
              [process.execPath, ...process.execArgv, process.argv[1], '--child', JSON.stringify(job)],
              { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium' } },
            );
            children.push(p);
            let buf = '',
              err = '';
            p.stdout!.on('data', (d: Buffer) => {
              buf += d;
              for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
                const msg = JSON.parse(buf.slice(0, i));
                buf = buf.slice(i + 1);
                lines.push(msg);
                if (values.verbose) console.error(JSON.stringify(msg).slice(0, 300));
                if (msg.kind === 'traffic' && ++finished === dp) for (const c of children) c.stdin?.end();
              }
            });
            p.stderr!.on('data', (d: Buffer) => {
              err += d;
            });
            p.on('exit', (code) =>
              code === 0
                ? res()
                : rej(new Error(`${mode} at ${mbit} Mbit/s: rank ${rank} exited ${code}: ${err.slice(-2000)}`)),
            );
          }),
      ),
    );
    const of = (kind: string) => lines.filter((l) => l.kind === kind);
    const start = of('start')[0] as unknown as { tokensPerStep: number; trainIters: number };
    const done = of('done') as unknown as Array<{ validLoss: number; elapsedMs: number }>;
    const traffic = of('traffic') as unknown as Array<{ links: Array<{ bytesSent: number }> }>;
    const tokens = start.tokensPerStep * start.trainIters;
    const wall = Math.max(...done.map((d) => d.elapsedMs)) / 1000;
    const bytes = traffic.flatMap((t) => t.links).reduce((a, l) => a + l.bytesSent, 0);
    return {
      mode,
      ...(mode === 'diloco' ? { inner_steps: Number(values['inner-steps']), compression: values.compression } : {}),
      tokens,
      tokens_per_s: tokens / wall,
      bytes_per_token: bytes / tokens,
      final_loss: done[0].validLoss,
      wall_s: wall,
    };
  } finally {
    net.destroy();
  }
}

async function main(): Promise<void> {
  const why = shapedNetUnavailable();
  if (why) throw new Error(`bench:wan shapes links with network namespaces: ${why}`);
  const rates = values.mbit.split(',').map(Number);
  const asked = (values.modes ?? 'sync,diloco').split(',') as Mode[];
  for (const m of asked) if (m !== 'sync' && m !== 'diloco') throw new Error(`--modes: unknown mode "${m}"`);
  const latency = Number(values['latency-ms']);
  const links = [];
  for (const mbit of rates) {
    const modes: ModeResult[] = [];
    for (const m of asked) {
      modes.push(await runMode(mbit, m));
      if (!values.json) console.error(JSON.stringify({ mbit, ...modes.at(-1) }));
    }
    links.push({ mbit, modes });
  }
  const report = {
    shaping:
      `tbf in network namespaces, egress ${rates.join('/')} Mbit/s per rank, ${values.dp} data-parallel ranks ` +
      `(Node processes, Dawn WebGPU, TCP) joined by veth pairs and a bridge; ` +
      (latency > 0
        ? `latency ${latency} ms one-way emulated in the transport (no netem in this kernel)`
        : 'no added latency'),
    links,
  };
  process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`);
}

if (values.child) await runWanRank(JSON.parse(values.child));
else await main();
