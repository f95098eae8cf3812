// One rank of bench/wan.ts: a Node process (Dawn WebGPU, SwiftShader on a machine without a
// GPU) inside its network namespace, talking TCP to the other ranks over the shaped links.
// Prints its TrainEvents as JSON lines, then its traffic counters, and leaves when the parent
// closes its stdin (a rank that left early would look lost to a peer still in a collective).

/** the model both benches train: configs/tiny.yml with bench/configs/wan.yml over it */
export const WAN_CONFIGS = ['configs/tiny.yml', 'bench/configs/wan.yml'];

export interface WanRankJob {
  rank: number;
  /** every rank's address (its namespace's eth0) and the port all ranks listen on */
  hosts: string[];
  port: number;
  /** NeoX config files, in order (later ones win) */
  configs: string[];
  /** NeoX config values layered over them */
  overrides: Record<string, unknown>;
  /** one-way latency emulated in the transport (ms) */
  latencyMs: number;
}

export async function runWanRank(job: WanRankJob): Promise<void> {
  const [{ loadConfig }, { defaultCorpus }, { createNodeContext }, { TcpTransport }, { directComm }, { trainRank }] =
    await Promise.all([
      import('../src/config/load-files'),
      import('../src/data/corpus'),
      import('../src/gpu/device-node'),
      import('../src/comm/tcp-transport'),
      import('../src/train/distributed/rank-comm'),
      import('../src/train/distributed/rank-loop'),
    ]);
  const { config } = loadConfig(job.configs, job.overrides);
  const ctx = await createNodeContext({ preferSwiftShader: true });
  const world = job.hosts.length;
  const transport = await TcpTransport.connect({
    rank: job.rank,
    worldSize: world,
    ports: job.hosts.map(() => job.port),
    hosts: job.hosts,
    connectTimeoutMs: 120_000,
    latencyMs: job.latencyMs,
  });
  // t: this process's clock (ms), to time the training loop without its evaluations
  const out = (o: object) =>
    process.stdout.write(`${JSON.stringify({ rank: job.rank, t: performance.now(), ...o })}\n`);
  await trainRank(
    ctx,
    config as never,
    { kind: 'text', text: await defaultCorpus() },
    { comm: directComm(transport), rank: job.rank, world },
    (e) => {
      if (e.kind === 'start' || e.kind === 'step' || e.kind === 'done' || e.kind === 'eval' || e.kind === 'round')
        out({
          ...e,
          adapter: e.kind === 'start' ? e.adapter : undefined,
          breakdown: e.kind === 'step' && e.breakdown ? { ...e.breakdown, spans: undefined } : undefined,
        });
    },
  );
  out({ kind: 'traffic', links: transport.meter.totals() });
  process.stdin.on('end', () => {
    transport.close();
    process.exit(0);
  });
  process.stdin.resume();
}
