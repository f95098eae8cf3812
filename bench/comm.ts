// npm run bench:comm [-- --json] [-- --quick]
// Real headless Chromium tabs over WebRTC: one-way p2p throughput per chunk size
// (16 KiB … 256 KiB), then ring all-reduce of 1, 16, 64 MiB across 2, 3, 4 tabs.
// algbw = bytes / time; busbw = algbw · 2(n−1)/n (nccl-tests). MB = 1e6 bytes.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { call, closeRanks, openRanks, startCommEnv, type CommEnv } from '../e2e/comm-tabs';

const KiB = 1024;
const MiB = 1024 * KiB;
const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface P2pRow {
  chunk_bytes: number;
  MBps: number;
  channels: number;
}
interface AllReduceRow {
  tabs: number;
  bytes: number;
  algbw_MBps: number;
  busbw_MBps: number;
  ms: number;
  wire_MBps: number;
  machine_cpu_busy: number;
}

/** Busy fraction of all cores between two /proc/stat samples (the whole machine: other jobs count too). */
function cpuSample(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: total - idle, total };
}
const busyBetween = (a: { busy: number; total: number }, b: { busy: number; total: number }) =>
  Math.round(((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100) / 100;

async function oneWay(
  env: CommEnv,
  chunkBytes: number,
  channels: number,
  bytes: number,
  reps: number,
): Promise<number> {
  const tabs = await openRanks(env, 2, { chunkBytes, channels });
  try {
    const rates: number[] = [];
    const cpu0 = cpuSample();
    for (let i = 0; i < reps; i++) {
      const [, ms] = await Promise.all([
        call(tabs[0], 'timeOneWay', 0, 1, bytes, `bw${i}`),
        call(tabs[1], 'timeOneWay', 0, 1, bytes, `bw${i}`),
      ]);
      rates.push(bytes / 1e6 / (ms! / 1000));
    }
    log(`  machine CPU ${Math.round(busyBetween(cpu0, cpuSample()) * 100)}% busy during the one-way runs`);
    return median(rates);
  } finally {
    await closeRanks(tabs);
  }
}

async function allReduceRows(env: CommEnv, n: number, sizes: number[], channels: number): Promise<AllReduceRow[]> {
  const tabs = await openRanks(env, n, { channels });
  const ranks = tabs.map((_, r) => r);
  const rows: AllReduceRow[] = [];
  try {
    for (const bytes of sizes) {
      const iters = bytes <= MiB ? 5 : bytes <= 16 * MiB ? 2 : 1;
      const cpu0 = cpuSample();
      const perRank = await Promise.all(tabs.map((t) => call(t, 'timeAllReduce', ranks, bytes, iters + 1)));
      // the collective takes as long as its slowest rank; the first iteration is warm-up
      const times = Array.from({ length: iters }, (_, i) => Math.max(...perRank.map((ts) => ts[i + 1])));
      const ms = median(times);
      const algbw = bytes / 1e6 / (ms / 1000);
      const busbw = (algbw * 2 * (n - 1)) / n;
      // wire: bytes/s summed over all n ring links (each rank sends 2(n−1)/n · bytes)
      const row = {
        tabs: n,
        bytes,
        algbw_MBps: round(algbw),
        busbw_MBps: round(busbw),
        ms: Math.round(ms),
        wire_MBps: round(busbw * n),
        machine_cpu_busy: busyBetween(cpu0, cpuSample()),
      };
      log(
        `all-reduce ${n} tabs ${bytes / MiB} MiB: ${row.ms} ms, algbw ${row.algbw_MBps} MB/s, busbw ${row.busbw_MBps} MB/s, all links together ${row.wire_MBps} MB/s, machine CPU ${Math.round(row.machine_cpu_busy * 100)}% busy`,
      );
      rows.push(row);
    }
  } finally {
    await closeRanks(tabs);
  }
  return rows;
}

async function reduceSpeed(
  env: CommEnv,
): Promise<{ cpu_MBps: number; gpu_roundtrip_MBps: number; gpu_kernel_MBps: number; gpu: string }> {
  const [tab] = await openRanks(env, 1);
  try {
    const n = 4 * MiB;
    const cpu = await call(tab, 'cpuReduceMBps', n, 3);
    const gpu = await call(tab, 'gpuReduceMBps', n, 3);
    return {
      cpu_MBps: round(cpu),
      gpu_roundtrip_MBps: round(gpu.MBps),
      gpu_kernel_MBps: round((gpu as { kernelMBps?: number }).kernelMBps ?? 0),
      gpu: gpu.detail,
    };
  } finally {
    await closeRanks([tab]);
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

async function main(): Promise<void> {
  const opts = new Command()
    .option('--json', 'print one JSON object on stdout')
    .option('--quick', 'smaller transfers (smoke test)')
    .option('--channels <n>', 'data connections per peer for the all-reduce runs', '1')
    .parse()
    .opts<{ json?: boolean; quick?: boolean; channels: string }>();
  const channels = Number(opts.channels);
  if (!Number.isInteger(channels) || channels < 1)
    throw new Error(`--channels must be a positive integer, got ${opts.channels}`);
  const env = await startCommEnv();
  try {
    const p2pBytes = opts.quick ? 4 * MiB : 32 * MiB;
    const p2p: P2pRow[] = [];
    for (const chunk of [16, 32, 64, 128, 256].map((k) => k * KiB)) {
      const MBps = round(await oneWay(env, chunk, 1, p2pBytes, 3));
      log(`p2p chunk ${chunk / KiB} KiB: ${MBps} MB/s`);
      p2p.push({ chunk_bytes: chunk, MBps, channels: 1 });
    }
    const twoChannels = round(await oneWay(env, 256 * KiB, 2, p2pBytes, 3));
    log(`p2p chunk 256 KiB over 2 channels: ${twoChannels} MB/s`);
    const link_MBps = Math.max(...p2p.map((r) => r.MBps));
    const sizes = opts.quick ? [1 * MiB, 4 * MiB] : [1 * MiB, 16 * MiB, 64 * MiB];
    const allreduce: AllReduceRow[] = [];
    for (const n of [2, 3, 4]) allreduce.push(...(await allReduceRows(env, n, sizes, channels)));
    const reduction = await reduceSpeed(env);
    log(
      `reduction: CPU ${reduction.cpu_MBps} MB/s; GPU upload+add+readback ${reduction.gpu_roundtrip_MBps} MB/s (kernel alone ${reduction.gpu_kernel_MBps} MB/s, ${reduction.gpu})`,
    );
    const best = Math.max(...allreduce.map((r) => r.busbw_MBps));
    const result = {
      link_MBps,
      p2p,
      allreduce,
      p2p_two_channels_MBps: twoChannels,
      best_busbw_over_link: round((best / link_MBps) * 100) / 100,
      reduction,
      channels,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      log(
        `link ${link_MBps} MB/s; best all-reduce busbw ${best} MB/s = ${Math.round((best / link_MBps) * 100)}% of link`,
      );
      console.table(allreduce);
    }
  } finally {
    await env.close();
  }
}

main().then(
  () => process.exit(0), // the PeerJS server keeps interval timers alive
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
