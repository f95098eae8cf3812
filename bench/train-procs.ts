// Training across processes: every rank of a layout is its own Node process with its own
// WebGPU device (Dawn) and CPU thread, talking over TCP (src/comm/tcp-transport.ts) — the
// closest this repo gets, outside browsers, to "each stage has its own compute". Prints one
// JSON object: per layout tokens/s and x_single (against the single rank of the same run), the
// per-stage step breakdown (compute: host time in forward/backward ops, p2p wait, all-reduce,
// optimizer, medians over the measured steps) and, for pipelines, the ideal m / (m + P − 1).
//   node --import tsx --import ./tools/register-raw.mjs bench/train-procs.ts --json [--layouts pp4m16,tp2pp2] [--steps 4]
// On a GPU machine: node tools/bundle-node.mjs build bench/train-procs.ts && ../shared/gpu/pack.sh build/train-procs.mjs,
// then bash .gpu/run.sh train-procs.mjs --json (all processes share the machine's GPU 0 unless
// Dawn finds more than one adapter name; they never share a CPU thread).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePorts } from '../src/node/free-ports';

process.env.LD_LIBRARY_PATH ??= '/usr/lib/chromium';
process.env.XDG_RUNTIME_DIR ??= '/tmp';

interface Layout {
  name: string;
  tp: number;
  pp: number;
  dp: number;
  m: number;
}
const LAYOUTS: Layout[] = [
  { name: 'single', tp: 1, pp: 1, dp: 1, m: 4 },
  { name: 'dp2', tp: 1, pp: 1, dp: 2, m: 2 },
  { name: 'tp2', tp: 2, pp: 1, dp: 1, m: 4 },
  { name: 'pp2m4', tp: 1, pp: 2, dp: 1, m: 4 },
  { name: 'pp2m8', tp: 1, pp: 2, dp: 1, m: 8 },
  { name: 'pp2m16', tp: 1, pp: 2, dp: 1, m: 16 },
  { name: 'pp4m4', tp: 1, pp: 4, dp: 1, m: 4 },
  { name: 'pp4m8', tp: 1, pp: 4, dp: 1, m: 8 },
  { name: 'pp4m16', tp: 1, pp: 4, dp: 1, m: 16 },
  { name: 'tp2pp2', tp: 2, pp: 2, dp: 1, m: 4 },
  { name: 'pp2dp2', tp: 1, pp: 2, dp: 2, m: 2 },
];

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    layouts: { type: 'string' },
    steps: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '256' },
    layers: { type: 'string', default: '8' },
    heads: { type: 'string', default: '8' },
    seq: { type: 'string', default: '128' },
    micro: { type: 'string', default: '4' },
    child: { type: 'string' },
  },
});

function modelOverrides(l: Layout): Record<string, unknown> {
  const steps = Number(values.steps) + Number(values.warmup);
  return {
    hidden_size: Number(values.hidden),
    num_layers: Number(values.layers),
    num_attention_heads: Number(values.heads),
    seq_length: Number(values.seq),
    max_position_embeddings: Number(values.seq),
    train_micro_batch_size_per_gpu: Number(values.micro),
    model_parallel_size: l.tp,
    pipe_parallel_size: l.pp > 1 ? l.pp : 0,
    global_num_gpus: l.tp * l.pp * l.dp,
    gradient_accumulation_steps: l.m,
    train_iters: steps,
    lr_decay_iters: steps,
    eval_interval: 100_000,
    eval_iters: 1,
    hidden_dropout: 0,
    attention_dropout: 0,
  };
}

/** A child: one rank. argv --child '{"layout":..., "rank":r, "ports":[...]}'; step events as JSON lines on stdout. */
async function child(job: { layout: Layout; rank: number; ports: number[] }): Promise<void> {
  const [{ loadConfig }, { defaultCorpus }, { createNodeContext }, { TcpTransport }, { directComm }, { trainRank }] =
    await Promise.all([
      import('../src/config/load-files'),
      import('../src/data/corpus'),
      import('../src/gpu/device-node'),
      import('../src/comm/tcp-transport'),
      import('../src/train/distributed/rank-comm'),
      import('../src/train/distributed/rank-loop'),
    ]);
  const { config } = loadConfig(['configs/tiny.yml'], modelOverrides(job.layout));
  const ctx = await createNodeContext({ preferSwiftShader: true });
  const world = job.ports.length;
  const transport =
    world > 1
      ? await TcpTransport.connect({ rank: job.rank, worldSize: world, ports: job.ports, connectTimeoutMs: 120_000 })
      : null;
  const comm = transport
    ? directComm(transport)
    : directComm((await import('../src/comm/loopback')).createLoopbackWorld(1).transports[0]);
  await trainRank(
    ctx,
    config as never,
    { kind: 'text', text: await defaultCorpus() },
    { comm, rank: job.rank, world },
    (e) => {
      if (e.kind === 'step' || e.kind === 'start')
        process.stdout.write(
          `${JSON.stringify({
            rank: job.rank,
            ...e,
            adapter: e.kind === 'start' ? e.adapter?.description || e.adapter?.device : undefined,
          })}\n`,
        );
    },
  );
  // A rank that is done may not leave yet: a peer still in its last collective would see it
  // lost. The parent closes every child's stdin once all of them have finished.
  process.stdout.write(`${JSON.stringify({ rank: job.rank, kind: 'finished' })}\n`);
  process.stdin.on('end', () => {
    transport?.close();
    process.exit(0);
  });
  process.stdin.resume();
}

type StepLine = {
  rank: number;
  kind: 'step';
  step: number;
  ms: number;
  tokensPerSec: number;
  breakdown: { computeMs: number; p2pMs: number; allReduceMs: number; optimizerMs: number; totalMs: number };
};

async function runLayout(l: Layout): Promise<Record<string, unknown>> {
  const world = l.tp * l.pp * l.dp;
  const ports = await freePorts(world);
  const lines: StepLine[] = [];
  let adapter = '';
  const children: ReturnType<typeof spawn>[] = [];
  let finished = 0;
  await Promise.all(
    Array.from(
      { length: world },
      (_, rank) =>
        new Promise<void>((res, rej) => {
          const p = spawn(
            process.execPath,
            [
              ...process.execArgv,
              process.argv[1],
              '--child',
              JSON.stringify({ layout: l, rank, ports }),
              ...process.argv.slice(2).filter((a) => a !== '--json'),
            ],
            { stdio: ['pipe', 'pipe', 'pipe'] },
          );
          children.push(p);
          let buf = '',
            err = '';
          p.stdout?.on('data', (d: Buffer) => {
            buf += d;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const msg = JSON.parse(buf.slice(0, i));
              buf = buf.slice(i + 1);
              if (msg.kind === 'step') lines.push(msg);
              else if (msg.kind === 'finished' && ++finished === world) for (const c of children) c.stdin?.end();
              else if (msg.adapter) adapter = msg.adapter;
            }
          });
          p.stderr?.on('data', (d: Buffer) => {
            err += d;
          });
          p.on('exit', (code) =>
            code === 0 ? res() : rej(new Error(`${l.name} rank ${rank} exited ${code}: ${err.slice(-2000)}`)),
          );
        }),
    ),
  );
  const warm = Number(values.warmup);
  const measured = lines.filter((s) => s.step > warm);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[s.length >> 1] : NaN;
  };
  const stageOf = (rank: number) => Math.floor(rank / (l.tp * l.dp));
  const stepMs = median(measured.filter((s) => s.rank === 0).map((s) => s.ms));
  const tokens = Number(values.micro) * Number(values.seq) * l.m * l.dp;
  const stages = Array.from({ length: l.pp }, (_, s) => {
    const mine = measured.filter((x) => stageOf(x.rank) === s && x.rank % (l.tp * l.dp) === 0).map((x) => x.breakdown);
    return {
      stage: s,
      compute_ms: median(mine.map((b) => b.computeMs)),
      p2p_ms: median(mine.map((b) => b.p2pMs)),
      allreduce_ms: median(mine.map((b) => b.allReduceMs)),
      optimizer_ms: median(mine.map((b) => b.optimizerMs)),
    };
  });
  const out: Record<string, unknown> = {
    layout: l.name,
    tp: l.tp,
    pp: l.pp,
    dp: l.dp,
    m: l.m,
    world,
    adapter,
    tokens_per_step: tokens,
    step_ms: stepMs,
    tokens_per_s: (tokens / stepMs) * 1000,
    stages,
  };
  // compute_ms is the host's time in forward/backward ops, which no longer wait for the GPU: it is
  // not busy time, so pipelines report only the ideal m / (m + P − 1) next to x_single
  if (l.pp > 1) out.ideal = l.m / (l.m + l.pp - 1);
  return out;
}

if (values.child) await child(JSON.parse(values.child));
else {
  const pick = values.layouts?.split(',');
  const chosen = pick ? LAYOUTS.filter((l) => pick.includes(l.name)) : LAYOUTS;
  if (pick && chosen.length !== pick.length)
    throw new Error(
      `--layouts: unknown ${pick.filter((p) => !LAYOUTS.some((l) => l.name === p)).join(', ')} (known: ${LAYOUTS.map((l) => l.name).join(', ')})`,
    );
  const results = [];
  for (const l of chosen) {
    const r = await runLayout(l);
    results.push(r);
    if (!values.json) console.error(JSON.stringify(r));
  }
  const single = results.find((r) => r.layout === 'single');
  for (const r of results)
    if (single) r.x_single = Math.round(((r.tokens_per_s as number) / (single.tokens_per_s as number)) * 1000) / 1000;
  const report = {
    bench: 'train-procs',
    model: {
      hidden: Number(values.hidden),
      layers: Number(values.layers),
      heads: Number(values.heads),
      seq: Number(values.seq),
      micro: Number(values.micro),
    },
    note: "one process per rank (own CPU thread and WebGPU device), TCP between them; processes share the machine's cores and GPU",
    results,
  };
  process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`);
}
