// `tabtron checkpoint inspect <dir> [--iteration N] [--json]`: a sharded checkpoint's manifest
// (layout, model, files) with every file's size and SHA-256 checked; exit 1 when one fails.
// `tabtron checkpoint merge <dir> [--iteration N] --out <file.safetensors> [--out-dir <dir>]`:
// the whole model in one rank file (every parameter full, named param/<name>, with its Adam
// moments adam.m/<name>, adam.v/<name>), which is the single file of a TP=PP=DP=1 checkpoint;
// --out-dir writes it as such a checkpoint directory (manifest and latest pointer included).
// <dir> is a checkpoint root (with iter_NNNNNNN/ folders; default: its latest) or one iteration folder.

import { Command, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import { CheckpointError, MANIFEST_NAME, iterationOfDirName, layoutText, rankFileName } from '../src/checkpoint/layout';
import type { Manifest } from '../src/checkpoint/manifest';
import { mergeCheckpoint } from '../src/checkpoint/merge';
import { describeRankFile } from '../src/checkpoint/rank-file';
import { sha256Hex } from '../src/checkpoint/sha256';
import type { CheckpointWriter } from '../src/checkpoint/store';
import type { StageRange } from '../src/model/params';
import { CliError } from './errors';

export interface Opened {
  root: string;
  iteration: number;
  store: CheckpointWriter;
  manifest: Manifest;
}

export async function openDir(dir: string, iteration?: number): Promise<Opened> {
  let root = resolve(dir);
  if (!existsSync(root)) throw new CliError(`checkpoint directory ${dir} does not exist`);
  const own = iterationOfDirName(basename(root));
  if (own !== null && existsSync(resolve(root, MANIFEST_NAME))) {
    if (iteration !== undefined && iteration !== own)
      throw new CliError(`${dir} is iteration ${own}, not ${iteration}`);
    iteration = own;
    root = dirname(root);
  }
  const store = fsCheckpointStore(root, { readOnly: true });
  const it = iteration ?? (await store.latest());
  if (it === null) throw new CliError(`${dir} holds no complete checkpoint (no iter_NNNNNNN/${MANIFEST_NAME})`);
  const manifest = await store.manifest(it);
  if (!manifest) {
    const have = await store.iterations();
    throw new CliError(
      `${dir}: iteration ${it} has no complete checkpoint (complete: ${have.length ? have.join(', ') : 'none'})`,
    );
  }
  return { root, iteration: it, store, manifest };
}

export interface FileCheck {
  name: string;
  rank: number;
  bytes: number;
  ok: boolean;
  problem?: string;
}

export interface InspectResult {
  root: string;
  manifest: Manifest;
  files: FileCheck[];
  ok: boolean;
}

export async function inspectCheckpoint(dir: string, opts: { iteration?: number } = {}): Promise<InspectResult> {
  const { root, iteration, store, manifest } = await openDir(dir, opts.iteration);
  const files: FileCheck[] = [];
  for (const f of manifest.files) {
    const check: FileCheck = { name: f.name, rank: f.rank, bytes: f.bytes, ok: false };
    try {
      const bytes = await store.backend.read(iteration, f.name);
      const sha = bytes && (await sha256Hex(bytes));
      if (!bytes) check.problem = 'missing';
      else if (bytes.length !== f.bytes) check.problem = `${bytes.length} bytes, the manifest says ${f.bytes}`;
      else if (sha !== f.sha256) check.problem = `sha256 ${sha}, the manifest says ${f.sha256}`;
      else {
        const h = describeRankFile(bytes, f.name);
        if (h.coord.rank !== f.rank || h.step !== manifest.step)
          check.problem = `its metadata says rank ${h.coord.rank}, step ${h.step}`;
        else check.ok = true;
      }
    } catch (e) {
      check.problem = (e as Error).message;
    }
    files.push(check);
  }
  return { root, manifest, files, ok: files.every((f) => f.ok) };
}

const stageText = (s: StageRange) =>
  `layers ${(s.chunks ?? [[s.firstLayer, s.endLayer]]).map(([a, b]) => `[${a}, ${b})`).join(' ')}` +
  `${s.hasEmbedding ? ' +embedding' : ''}${s.hasHead ? ' +head' : ''}`;

export function renderInspect(r: InspectResult): string {
  const m = r.manifest,
    s = m.spec;
  const total = m.files.reduce((a, f) => a + f.bytes, 0);
  const lines = [
    `checkpoint ${r.root} iteration ${m.iteration} (step ${m.step}, saved ${m.createdAt})`,
    `layout: ${layoutText(m.layout)}`,
    `model: V ${s.V}, C ${s.C}, L ${s.L}, H ${s.H}, F ${s.F}, ${s.norm}, ${s.posEmb} positions, ${s.tied ? 'tied' : 'untied'} embeddings`,
    `files: ${m.files.length}, ${total} bytes`,
  ];
  for (const f of m.files) {
    const c = r.files.find((x) => x.name === f.name)!;
    const what = `${f.params ? 'params + ' : ''}${f.moments === 'flat' ? `adam shard [${f.optRange.start}, ${f.optRange.end})` : 'adam'}`;
    lines.push(
      `  ${f.name}  rank ${f.rank} (tp ${f.coord.tp}, pp ${f.coord.pp}, dp ${f.coord.dp})  ${stageText(f.stage)}  ${what}  ${f.bytes} B  ${c.ok ? 'sha256 ok' : `BAD: ${c.problem}`}`,
    );
  }
  const bad = r.files.filter((f) => !f.ok);
  lines.push(
    bad.length
      ? `${bad.length} of ${r.files.length} files failed: ${bad.map((f) => f.name).join(', ')}`
      : `all ${r.files.length} checksums ok`,
  );
  return `${lines.join('\n')}\n`;
}

export interface MergeOptions {
  iteration?: number;
  out?: string;
  outDir?: string;
}

export async function mergeCheckpointDir(dir: string, opts: MergeOptions): Promise<string> {
  if (!opts.out && !opts.outDir)
    throw new CliError('checkpoint merge: give --out <file.safetensors> and/or --out-dir <dir>');
  const { store, iteration, manifest } = await openDir(dir, opts.iteration);
  const merged = await mergeCheckpoint(manifest, (name) => store.get(iteration, name));
  const done: string[] = [];
  if (opts.out) {
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, merged.bytes);
    done.push(opts.out);
  }
  if (opts.outDir) {
    const out = fsCheckpointStore(opts.outDir);
    if (await out.manifest(iteration))
      throw new CliError(`${opts.outDir} already holds a complete iteration ${iteration}; not overwritten`);
    await out.put(iteration, rankFileName(0), merged.bytes, {
      sha256: await sha256Hex(merged.bytes),
      layout: merged.layout,
    });
    done.push(`${opts.outDir} (1-rank checkpoint)`);
  }
  return (
    `merged iteration ${iteration} (${layoutText(manifest.layout)}) into ${done.join(' and ')}: ` +
    `${merged.state.params.length} flat values, ${merged.bytes.length} bytes\n`
  );
}

function nonNegativeInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got "${v}"`);
    return Number(v);
  };
}

export function checkpointCommand(): Command {
  const cmd = new Command('checkpoint').description('inspect, verify and merge sharded checkpoints');
  cmd
    .command('inspect')
    .description("print a checkpoint's manifest (layout, model, files) and verify every file's size and SHA-256")
    .argument('<dir>', 'checkpoint directory (its latest iteration) or one iter_NNNNNNN folder')
    .option('--iteration <n>', 'which iteration (default: latest)', nonNegativeInt('--iteration'))
    .option('--json', 'print one JSON object')
    .action(async (dir: string, o: { iteration?: number; json?: boolean }) => {
      const r = await inspectCheckpoint(dir, o);
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ ok: r.ok, root: r.root, manifest: r.manifest, files: r.files })}\n`
          : renderInspect(r),
      );
      if (!r.ok) {
        const bad = r.files.filter((f) => !f.ok);
        throw new CheckpointError(
          'checksum_mismatch',
          `checkpoint ${dir} iteration ${r.manifest.iteration}: ${bad.map((f) => `${f.name} (rank ${f.rank}): ${f.problem}`).join('; ')}`,
        );
      }
    });
  cmd
    .command('merge')
    .description(
      'write the whole model (every parameter full, plus Adam moments) as one rank file / a 1-rank checkpoint',
    )
    .argument('<dir>', 'checkpoint directory (its latest iteration) or one iter_NNNNNNN folder')
    .option('--iteration <n>', 'which iteration (default: latest)', nonNegativeInt('--iteration'))
    .option('--out <file>', 'the merged .safetensors file')
    .option('--out-dir <dir>', 'also write it as a 1-rank checkpoint directory')
    .action(async (dir: string, o: MergeOptions) => {
      process.stdout.write(await mergeCheckpointDir(dir, o));
    });
  return cmd;
}
