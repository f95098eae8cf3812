// Training over home-internet links: the same model, the same tokens (the same samples) trained
// by data-parallel ranks in `sync` mode (gradients all-reduced every step) and in `diloco` mode
// (local_sgd: inner steps, then int8 pseudo-gradients averaged), each rank a Node process in its
// own network namespace whose upload is limited by tbf (tools/netns). The model is
// configs/tiny.yml with bench/configs/wan.yml over it (--config). Prints one JSON object:
//   {"shaping", "model", "machine", "links": [{"mbit": 10, "modes": [{"mode": "sync", "tokens",
//    "tokens_per_s", "bytes_per_token", "final_loss", "wall_s", "collective_s"},
//    {"mode": "diloco", "inner_steps", "compression", "rounds", ...}], "diloco_vs_sync": {...}}], "goals"}
// wall_s is the training loop of the slowest rank, from before step 1 to its last step's report
// (not process start, device setup or evaluation); tokens_per_s = tokens / wall_s; collective_s is
// its time waiting on data-parallel collectives (each step's gradient all-reduce, past what overlapped
// the backward, or the rounds), the other rank included; bytes_per_token counts every message byte;
// final_loss is the validation loss after the last step (all replicas hold the same model then).
// Needs root (network namespaces).  npm run bench:wan -- --json [--mbit 10,50] [--dp 2] [--steps 60]
//   [--inner-steps 30] [--modes sync,diloco] [--outer nesterov:0.7:0.9[,sgd:1:0 ...]] [--latency-ms 0]
//   [--eval-iters 32] [--config a.yml,b.yml] [--verbose: ranks' events on stderr]. Progress (one line
//   per mode) goes to stderr. --outer lists outer optimizers (type:lr:momentum), one diloco run each;
//   the first (default DiLoCo's own) is the one diloco_vs_sync and goals compare, the others get
//   their ratios in their mode entry and in goals_by_outer.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ShapedNet, shapedNetUnavailable } from '../tools/netns/shaped-net';
import { runWanRank, WAN_CONFIGS, type WanRankJob } from './wan-rank';

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
    outer: { type: 'string', default: 'nesterov:0.7:0.9' },
    'latency-ms': { type: 'string', default: '0' },
    'eval-iters': { type: 'string', default: '32' },
    config: { type: 'string', default: WAN_CONFIGS.join(',') },
    port: { type: 'string', default: '7300' },
    child: { type: 'string' },
  },
});

type Mode = 'sync' | 'diloco';

interface Outer {
  type: 'nesterov' | 'sgd';
  lr: number;
  momentum: number;
}

/** --outer: type:lr:momentum, comma-separated */
function parseOuter(list: string): Outer[] {
  return list.split(',').map((item) => {
    const [type, lr, momentum] = item.split(':');
    const o = { type, lr: Number(lr), momentum: Number(momentum) } as Outer;
    if ((type !== 'nesterov' && type !== 'sgd') || !(o.lr > 0) || !(o.momentum >= 0 && o.momentum < 1))
      throw new Error(`--outer: "${item}" is not type:lr:momentum (type nesterov or sgd, lr > 0, 0 <= momentum < 1)`);
    return o;
  });
}

interface RankLine {
  rank: number;
  kind: string;
  /** the rank process's clock (ms) */
  t: number;
  step?: number;
  ms?: number;
  breakdown?: { allReduceMs: number };
}

interface LinkTotals {
  bytesSent: number;
}

/** what the ranks said of the model at start (the last mode run) */
let model: { params: number; tokensPerStep: number; trainIters: number } | null = null;
/** the WebGPU adapter rank 0 trained on */
let adapter: unknown = null;

interface ModeResult {
  mode: Mode;
  inner_steps?: number;
  compression?: string;
  outer_optimizer?: Outer;
  tokens: number;
  tokens_per_s: number;
  bytes_per_token: number;
  final_loss: number;
  wall_s: number;
  collective_s: number;
  rounds?: number;
  vs_sync?: ReturnType<typeof ratios>;
}

function overrides(mode: Mode, dp: number, outer?: Outer): Record<string, unknown> {
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
            outer_optimizer: outer,
            compression: { type: values.compression, block_size: 256, error_feedback: true },
          },
        }
      : {}),
  };
}

async function runMode(mbit: number, mode: Mode, outer?: Outer): Promise<ModeResult> {
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
              configs: values.config.split(','),
              overrides: overrides(mode, dp, outer),
              latencyMs: Number(values['latency-ms']),
            };
            const p = net.spawn(
              rank,
              [process.execPath, ...process.execArgv, process.argv[1], '--child', JSON.stringify(job)],
              { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LD_LIBRARY_PATH: childLibraryPath() } },
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
    const ranks = Array.from({ length: dp }, (_, r) => lines.filter((l) => l.rank === r) as unknown as RankLine[]);
    const start = ranks[0].find((l) => l.kind === 'start') as unknown as {
      params: number;
      tokensPerStep: number;
      trainIters: number;
      adapter?: unknown;
    };
    const a = start.adapter as { vendor: string; device: string; description: string } | undefined;
    if (a) adapter = { vendor: a.vendor, device: a.device, description: a.description };
    // the training loop: from the evaluation before step 1 to the report of the last step (the
    // evaluation after it is not training); the slowest rank's
    const loopMs = ranks.map((ls) => {
      const begin = ls.find((l) => l.kind === 'eval' && l.step === 0);
      const end = ls.filter((l) => l.kind === 'step').at(-1);
      if (!begin || !end) throw new Error(`${mode} at ${mbit} Mbit/s: a rank reported no steps`);
      return end.t - begin.t;
    });
    // time waiting on data-parallel traffic (the other rank included): each step's gradient
    // collectives (grad-sync's allReduceMs: past what overlapped the backward), and the rounds
    const collectiveMs = ranks.map((ls) =>
      ls.reduce(
        (a, l) => a + (l.kind === 'step' ? (l.breakdown?.allReduceMs ?? 0) : l.kind === 'round' ? l.ms! : 0),
        0,
      ),
    );
    const done = ranks.map((ls) => ls.find((l) => l.kind === 'done') as unknown as { validLoss: number });
    const traffic = ranks.map((ls) => ls.find((l) => l.kind === 'traffic') as unknown as { links: LinkTotals[] });
    const tokens = start.tokensPerStep * start.trainIters;
    const wall = Math.max(...loopMs) / 1000;
    const bytes = traffic.flatMap((t) => t.links).reduce((a, l) => a + l.bytesSent, 0);
    model = { params: start.params, tokensPerStep: start.tokensPerStep, trainIters: start.trainIters };
    return {
      mode,
      ...(mode === 'diloco'
        ? { inner_steps: Number(values['inner-steps']), compression: values.compression, outer_optimizer: outer }
        : {}),
      tokens,
      tokens_per_s: tokens / wall,
      bytes_per_token: bytes / tokens,
      final_loss: done[0].validLoss,
      wall_s: wall,
      collective_s: Math.max(...collectiveMs) / 1000,
      ...(mode === 'diloco' ? { rounds: ranks[0].filter((l) => l.kind === 'round').length } : {}),
    };
  } finally {
    net.destroy();
  }
}

/** Dawn finds SwiftShader (no GPU) through Chromium's Vulkan loader: the ranks get its folder in
 *  front of what this process has (on a GPU machine it does not exist and changes nothing). */
function childLibraryPath(): string {
  return ['/usr/lib/chromium', ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)].join(':');
}

/** sync ÷ diloco bytes per token and tokens/s diloco ÷ sync, diloco's final loss ÷ sync's */
function compare(modes: ModeResult[]) {
  const sync = modes.find((m) => m.mode === 'sync');
  const diloco = modes.find((m) => m.mode === 'diloco');
  if (!sync || !diloco) return null;
  return ratios(sync, diloco);
}

function ratios(sync: ModeResult, diloco: ModeResult) {
  return {
    bytes_per_token_ratio: sync.bytes_per_token / diloco.bytes_per_token,
    final_loss_ratio: diloco.final_loss / sync.final_loss,
    tokens_per_s_ratio: diloco.tokens_per_s / sync.tokens_per_s,
  };
}

async function main(): Promise<void> {
  const why = shapedNetUnavailable();
  if (why) throw new Error(`bench:wan shapes links with network namespaces: ${why}`);
  const rates = values.mbit.split(',').map(Number);
  const asked = (values.modes ?? 'sync,diloco').split(',') as Mode[];
  for (const m of asked) if (m !== 'sync' && m !== 'diloco') throw new Error(`--modes: unknown mode "${m}"`);
  const latency = Number(values['latency-ms']);
  const outers = parseOuter(values.outer);
  const loadBefore = loadavg().map((x) => +x.toFixed(2));
  const links: Array<{ mbit: number; modes: ModeResult[]; diloco_vs_sync: ReturnType<typeof compare> }> = [];
  for (const mbit of rates) {
    const modes: ModeResult[] = [];
    for (const m of asked)
      for (const outer of m === 'diloco' ? outers : [undefined]) {
        modes.push(await runMode(mbit, m, outer));
        console.error(JSON.stringify({ mbit, ...modes.at(-1) }));
      }
    const sync = modes.find((m) => m.mode === 'sync');
    if (sync) for (const m of modes) if (m.mode === 'diloco') m.vs_sync = ratios(sync, m);
    links.push({ mbit, modes, diloco_vs_sync: compare(modes) });
  }
  const compared = links.map((l) => l.diloco_vs_sync).filter((c) => c !== null);
  const slowest = links.reduce((a, l) => (l.mbit < a.mbit ? l : a), links[0]);
  /** the issue's goals, over every link (c: each link's diloco ÷ sync, in links' order) */
  const goals = (cs: Array<ReturnType<typeof ratios> | null>) => {
    const got = cs.filter((c) => c !== null);
    return {
      bytes_per_token_100x_fewer: got.every((c) => c.bytes_per_token_ratio >= 100),
      final_loss_within_3pct: got.every((c) => Math.abs(c.final_loss_ratio - 1) <= 0.03),
      tokens_per_s_10x_on_slowest_link: (cs[links.indexOf(slowest)]?.tokens_per_s_ratio ?? 0) >= 10,
    };
  };
  const report = {
    shaping:
      `tbf in network namespaces, egress ${rates.join('/')} Mbit/s per rank, ${values.dp} data-parallel ranks ` +
      `(Node processes, Dawn WebGPU, TCP) joined by veth pairs and a bridge; ` +
      (latency > 0
        ? `latency ${latency} ms one-way emulated in the transport (no netem in this kernel)`
        : 'no added latency'),
    model: { ...model, dp: Number(values.dp), config: values.config.split(',') },
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      adapter,
      load_before: loadBefore,
      load_after: loadavg().map((x) => +x.toFixed(2)),
    },
    links,
    goals: compared.length ? goals(links.map((l) => l.diloco_vs_sync)) : null,
    ...(outers.length > 1 && compared.length
      ? {
          goals_by_outer: outers.map((o) => ({
            outer_optimizer: o,
            ...goals(links.map((l) => l.modes.find((m) => m.outer_optimizer === o)?.vs_sync ?? null)),
          })),
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`);
}

if (values.child) await runWanRank(JSON.parse(values.child));
else await main();
