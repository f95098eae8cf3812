// Which WebGPU adapter headless Chromium gets, per set of flags, and the kernel checks in a tab with
// the flags that get a hardware adapter: for a GPU machine that runs the tabs itself.
//   node --import tsx --import ./tools/register-raw.mjs tools/gpu/chromium-probe.ts adapters \
//     [--sets sets.json] [--first] [--n 1024] [--timeout s]     one JSON line per set; --first: stop after
//                                                               the first set with a hardware adapter
//   node --import tsx --import ./tools/register-raw.mjs tools/gpu/chromium-probe.ts checks --args="FLAGS" \
//     [--filter NAME] [--dist DIR]                               one JSON line per check, then a summary
// A set is { name, args }: args as TABTRON_CHROMIUM_ARGS takes them (src/node/chromium.ts). Each
// adapter probe runs a naive n³ f32 matmul on the device and checks a few entries of it, so a
// software adapter shows itself by its GFLOP/s as well as by its name. Both serve the app built by
// tools/gpu/vite.pages.config.ts (DIR, default dist/); `checks` runs e2e/pages/kernels.html's checks
// (every case of every config, as tools/dev/checks.ts does in Node). Bundled for a GPU machine by
// tools/gpu/pack-chromium.sh.
import express from 'express';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { isolationHeaders, repoRoot, serveBuilt } from '../../coordinator/web';
import { allChecks } from '../../src/gpu/checks';
import type { CheckResult } from '../../src/gpu/checks/harness';
import { chromiumArgs, chromiumPath } from '../../src/node/chromium';

interface FlagSet {
  name: string;
  args: string;
}

/** Without GPU flags (what the CLI runs), then the flags that route Chromium's WebGPU to the Vulkan driver:
 *  with ANGLE on Vulkan too (as Chrome's guide to WebGPU in headless Chrome on a GPU does), with WebGPU alone
 *  on it, in the GPU process or in the browser's, and with GL left to SwiftShader. */
const DEFAULT_SETS: FlagSet[] = [
  { name: 'cli-default', args: '' },
  {
    name: 'angle-vulkan',
    args: '--no-in-process-gpu --use-angle=vulkan --enable-features=Vulkan --disable-vulkan-surface --ignore-gpu-blocklist',
  },
  {
    name: 'vulkan-gpu-process',
    args: '--no-in-process-gpu --enable-features=Vulkan --ignore-gpu-blocklist --disable-vulkan-surface',
  },
  { name: 'vulkan-in-process', args: '--enable-features=Vulkan --ignore-gpu-blocklist --disable-vulkan-surface' },
  {
    name: 'angle-vulkan-native',
    args:
      '--no-in-process-gpu --use-gl=angle --use-angle=vulkan --enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan ' +
      '--use-vulkan=native --ignore-gpu-blocklist --disable-vulkan-surface',
  },
  {
    name: 'gl-swiftshader-webgpu-vulkan',
    args:
      '--no-in-process-gpu --use-angle=swiftshader --enable-features=Vulkan --use-vulkan=native ' +
      '--use-webgpu-adapter=default --ignore-gpu-blocklist --disable-vulkan-surface',
  },
];

const PROBE_PAGE = '<!doctype html><meta charset="utf-8"><title>adapter probe</title>';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sets: { type: 'string' },
    args: { type: 'string', default: '' },
    filter: { type: 'string' },
    dist: { type: 'string', default: join(repoRoot, 'dist') },
    timeout: { type: 'string', default: '90' },
    n: { type: 'string', default: '1024' },
    first: { type: 'boolean', default: false },
  },
});
const mode = positionals[0] ?? 'adapters';
const timeoutMs = Number(values.timeout) * 1000;

async function serve(): Promise<{ url: string; close: () => void }> {
  const app = express();
  app.use(isolationHeaders);
  app.get('/probe.html', (_req, res) => res.type('html').send(PROBE_PAGE));
  app.use(serveBuilt(values.dist));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Chromium's own log (--enable-logging=stderr) reaches a file only through a wrapper script that
 *  sends its stderr to $TABTRON_CHROMIUM_STDERR (as tools/gpu/on-gpu-chromium.sh makes); else none. */
async function launch(args: string, name: string): Promise<Browser> {
  process.env.TABTRON_CHROMIUM_STDERR = join(tmpdir(), `chromium-probe-${name}.log`);
  writeFileSync(process.env.TABTRON_CHROMIUM_STDERR, '');
  return chromium.launch({
    executablePath: chromiumPath(),
    args: chromiumArgs(['--enable-logging=stderr'], args),
    headless: true,
    timeout: timeoutMs,
  });
}

/** The log's last lines, without the noise of a healthy run. */
function chromiumLog(lines = 60): string[] {
  const file = process.env.TABTRON_CHROMIUM_STDERR;
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.includes('DevTools listening'))
    .slice(-lines)
    .map((l) => l.slice(0, 400));
}

/** Runs in the page: the adapter, its limits and features, and a timed naive matmul on its device. */
async function probeInPage(n: number) {
  const gpu = navigator.gpu;
  if (!gpu) return { error: 'navigator.gpu is missing' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { error: 'requestAdapter() returned null' };
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMaxSize?: number };
  const limits = adapter.limits as unknown as Record<string, number>;
  const info = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isFallbackAdapter: i.isFallbackAdapter,
    subgroupMaxSize: i.subgroupMaxSize,
    features: [...adapter.features].sort(),
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
  };
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: Math.min(limits.maxStorageBufferBindingSize, 1 << 28) },
  });
  const code = `
    @group(0) @binding(0) var<storage, read> a: array<f32>;
    @group(0) @binding(1) var<storage, read> b: array<f32>;
    @group(0) @binding(2) var<storage, read_write> c: array<f32>;
    @compute @workgroup_size(16, 16) fn main(@builtin(global_invocation_id) g: vec3u) {
      let n = ${n}u;
      if (g.x >= n || g.y >= n) { return; }
      var s = 0.0;
      for (var k = 0u; k < n; k++) { s += a[g.y * n + k] * b[k * n + g.x]; }
      c[g.y * n + g.x] = s;
    }`;
  const A = new Float32Array(n * n).map((_, j) => ((j * 7) % 13) / 13 - 0.5);
  const B = new Float32Array(n * n).map((_, j) => ((j * 5) % 11) / 11 - 0.5);
  const buf = (data: Float32Array | null, usage: number) => {
    const b = device.createBuffer({ size: n * n * 4, usage });
    if (data) device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const S = GPUBufferUsage.STORAGE;
  const [a, b, c] = [
    buf(A, S | GPUBufferUsage.COPY_DST),
    buf(B, S | GPUBufferUsage.COPY_DST),
    buf(null, S | GPUBufferUsage.COPY_SRC),
  ];
  const read = device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, c].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const run = async (reps: number) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(n / 16, n / 16);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run(1);
  const reps = 4;
  const ms = await run(reps);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(c, 0, read, 0, n * n * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const C = new Float32Array(read.getMappedRange().slice(0));
  let maxErr = 0;
  for (const [r, col] of [
    [0, 0],
    [n - 1, n - 1],
    [n >> 1, 3],
    [7, n - 5],
  ]) {
    let s = 0;
    for (let k = 0; k < n; k++) s += A[r * n + k] * B[k * n + col];
    maxErr = Math.max(maxErr, Math.abs(s - C[r * n + col]) / Math.max(1, Math.abs(s)));
  }
  device.destroy();
  return { info, matmul: { n, reps, ms: Math.round(ms * 100) / 100, gflops: (reps * 2 * n ** 3) / ms / 1e6, maxErr } };
}

async function adapters(): Promise<void> {
  const sets: FlagSet[] = values.sets ? JSON.parse(readFileSync(values.sets, 'utf8')) : DEFAULT_SETS;
  const web = await serve();
  try {
    for (const set of sets) {
      const t0 = Date.now();
      let result: unknown;
      let browser: Browser | undefined;
      try {
        browser = await launch(set.args, set.name);
        const page = await browser.newPage();
        // tsx and esbuild name functions through a helper that the page does not have
        await page.addInitScript('globalThis.__name = (f) => f');
        await page.goto(`${web.url}/probe.html`, { timeout: timeoutMs });
        result = await Promise.race([
          page.evaluate(probeInPage, Number(values.n)),
          new Promise((_, no) =>
            setTimeout(() => no(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ]);
      } catch (e) {
        result = { error: String((e as Error).message ?? e).slice(0, 2000) };
      } finally {
        await browser?.close().catch(() => {});
      }
      const seconds = (Date.now() - t0) / 1000;
      const line = { set: set.name, args: set.args, seconds, ...(result as object), log: chromiumLog() };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      const info = (result as { info?: { vendor?: string; isFallbackAdapter?: boolean } }).info;
      if (values.first && info && !info.isFallbackAdapter && info.vendor !== 'google') break;
    }
  } finally {
    web.close();
  }
}

type KernelChecks = (
  f?: string,
  exact?: boolean,
  sweep?: string,
) => Promise<{ adapter: unknown; results: CheckResult[] }>;

/** Every check (or --filter's) on its own device in the page's Worker, a JSON line each as it ends (so a
 *  run cut short keeps what it did), then a summary line: all of each check's cases and configs. */
async function checks(): Promise<void> {
  const web = await serve();
  const browser = await launch(values.args, 'checks');
  const t0 = Date.now();
  let total = 0;
  let failedTotal = 0;
  let adapter: unknown = null;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') process.stderr.write(`[page] ${m.text()}\n`);
    });
    await page.goto(`${web.url}/e2e/pages/kernels.html`);
    await page.waitForFunction(() => 'kernelChecks' in window);
    const names = allChecks.map((c) => c.name).filter((n) => !values.filter || n.includes(values.filter));
    for (const name of names) {
      const c0 = Date.now();
      const out = await page.evaluate(
        (n) => (window as unknown as { kernelChecks: KernelChecks }).kernelChecks(n, true, 'full'),
        name,
      );
      adapter = out.adapter;
      const failed = out.results.filter((r) => !(r.relErr <= r.tol));
      total += out.results.length;
      failedTotal += failed.length;
      const failures = failed.map((r) => `${r.name}: relErr ${r.relErr} > tol ${r.tol} ${r.detail ?? ''}`);
      const line = { check: name, results: out.results.length, failed: failed.length, failures, ms: Date.now() - c0 };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    const seconds = (Date.now() - t0) / 1000;
    process.stdout.write(
      `${JSON.stringify({ adapter, args: values.args, results: total, failed: failedTotal, seconds })}\n`,
    );
    process.exitCode = failedTotal ? 1 : 0;
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: String(e).slice(0, 2000), log: chromiumLog() })}\n`);
    process.exitCode = 1;
  } finally {
    await browser.close();
    web.close();
  }
}

if (mode === 'adapters') await adapters();
else if (mode === 'checks') await checks();
else throw new Error(`unknown mode ${mode} (adapters or checks)`);
