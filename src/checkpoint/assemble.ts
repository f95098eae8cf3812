// Full (unsplit) tensors from a sharded checkpoint: for each parameter, the TP pieces of one
// pipeline stage that holds it, from the dp == 0 files. Tied embeddings are held by the first
// and the last stage (identical copies): the first stage's is read, unless the tensors asked
// for need files of the last stage only (a last-stage target), whose own copy is then read; with ZeRO the moments are cut from the DP shards whose flat ranges cover
// the parameter's slot. Only the files those tensors need are fetched, each once, and each is
// checked against the manifest's size and SHA-256 before it is read.

import { layoutParams, paramDefs, stageParamDefs, type ParamDef, type ParamLayout } from '../model/params';
import { unshardTensor } from '../model/tp-shard';
import { rankOf } from '../parallel/grid';
import { CheckpointError, sameLayout, type TrainingMeta } from './layout';
import type { Manifest, ManifestFile } from './manifest';
import { decodeRankFile, type DecodedRankFile } from './rank-file';
import { sha256Hex } from './sha256';

export type ReadFile = (name: string) => Promise<Uint8Array>;

export interface FullTensor {
  /** the unsplit shape in the checkpoint's spec */
  shape: number[];
  param: Float32Array;
  /** Adam moments, same shape; null when moments were not asked for */
  m: Float32Array | null;
  v: Float32Array | null;
}

interface Piece {
  file: ManifestFile;
  lo: number;
  hi: number;
}
interface TensorPlan {
  def: ParamDef;
  slotOffset: number;
  length: number;
  params: ManifestFile[];
  moments: Piece[][];
}

export class CheckpointReader {
  /** names of the files fetched so far, in fetch order */
  readonly fetched: string[] = [];
  private readonly files = new Map<string, Promise<DecodedRankFile>>();
  private readonly defs: Map<string, ParamDef>;
  private readonly stageLayouts: (ParamLayout | null)[];

  constructor(
    readonly manifest: Manifest,
    private readonly readFile: ReadFile,
  ) {
    const { spec, layout } = manifest;
    this.defs = new Map(paramDefs(spec).map((d) => [d.name, d]));
    this.stageLayouts = Array.from({ length: layout.pp }, (_, p) => {
      const f = manifest.files.find((e) => e.coord.pp === p);
      return f ? layoutParams(stageParamDefs(spec, f.stage, layout.tp)) : null;
    });
  }

  /** Every parameter name the checkpoint holds, in paramDefs order. */
  names(): string[] {
    return [...this.defs.keys()].filter((n) => this.stageLayouts.some((l) => l?.byName.has(n)));
  }

  /** The files that `names` need (all of them when omitted), ascending rank. */
  filesFor(names: Iterable<string> = this.names(), moments = true): ManifestFile[] {
    const set = new Set<ManifestFile>();
    for (const p of this.plans([...names], moments)) {
      p.params.forEach((f) => set.add(f));
      p.moments.flat().forEach((x) => set.add(x.file));
    }
    return [...set].sort((a, b) => a.rank - b.rank);
  }

  async tensors(
    names: Iterable<string> = this.names(),
    opts: { moments?: boolean } = {},
  ): Promise<Map<string, FullTensor>> {
    const moments = opts.moments ?? true;
    const plans = this.plans([...names], moments);
    const decoded = new Map<string, DecodedRankFile>();
    const needed = new Set<ManifestFile>();
    for (const p of plans) {
      p.params.forEach((f) => needed.add(f));
      p.moments.flat().forEach((x) => needed.add(x.file));
    }
    await Promise.all([...needed].map(async (f) => decoded.set(f.name, await this.file(f))));
    const out = new Map<string, FullTensor>();
    for (const p of plans) {
      const { def, slotOffset: off, length } = p;
      const params = p.params.map((f) => decoded.get(f.name)!.params!.subarray(off, off + length));
      const moment = (w: 'm' | 'v') =>
        unshardTensor(
          def.tp,
          def.fullShape,
          p.moments.map((pieces) => {
            const local = new Float32Array(length);
            for (const x of pieces) {
              const d = decoded.get(x.file.name)!,
                start = x.file.optRange.start;
              local.set(d[w].subarray(x.lo - start, x.hi - start), x.lo - off);
            }
            return local;
          }),
        );
      out.set(def.name, {
        shape: def.fullShape,
        param: unshardTensor(def.tp, def.fullShape, params),
        m: moments ? moment('m') : null,
        v: moments ? moment('v') : null,
      });
    }
    return out;
  }

  private entry(tp: number, pp: number, dp: number): ManifestFile {
    const rank = rankOf(this.manifest.layout, { tp, pp, dp });
    const f = this.manifest.files.find((e) => e.rank === rank);
    if (!f)
      throw new CheckpointError(
        'not_found',
        `the manifest lists no file for rank ${rank} (tp ${tp}, pp ${pp}, dp ${dp})`,
      );
    return f;
  }

  /** Each name from one stage: the only one holding it, else the first of its holders whose
   *  files are needed anyway, else its first holder. */
  private plans(names: string[], moments: boolean): TensorPlan[] {
    const holders = (n: string) => this.stageLayouts.flatMap((l, p) => (l?.byName.has(n) ? [p] : []));
    const needed = new Set(
      names.flatMap((n) => {
        const h = holders(n);
        return h.length === 1 ? h : [];
      }),
    );
    return names.map((n) => {
      const h = holders(n);
      return this.plan(n, h.find((p) => needed.has(p)) ?? h[0] ?? -1, moments);
    });
  }

  private plan(name: string, pp: number, moments: boolean): TensorPlan {
    const def = this.defs.get(name);
    if (!def || pp < 0) throw new CheckpointError('not_found', `tensor ${name} is not in the checkpoint`);
    const { layout } = this.manifest;
    const slot = this.stageLayouts[pp]!.byName.get(name)!;
    const tps = def.tp === 'replicated' ? [0] : Array.from({ length: layout.tp }, (_, t) => t);
    const lo = slot.offset,
      hi = slot.offset + slot.length;
    const momentPieces = (t: number): Piece[] => {
      if (!moments) return [];
      const owner = this.entry(t, pp, 0);
      if (owner.moments === 'per-param') return [{ file: owner, lo, hi }];
      const pieces = Array.from({ length: layout.dp }, (_, d) => this.entry(t, pp, d))
        .map((file) => ({ file, lo: Math.max(lo, file.optRange.start), hi: Math.min(hi, file.optRange.end) }))
        .filter((x) => x.hi > x.lo)
        .sort((a, b) => a.lo - b.lo);
      let at = lo;
      for (const x of pieces) if (x.lo <= at) at = Math.max(at, x.hi);
      if (at < hi)
        throw new CheckpointError(
          'invalid_manifest',
          `moments of ${name} (elements [${lo}, ${hi}) of tp ${t}, pp ${pp}) are not covered by the DP shards' ranges: nothing holds element ${at}`,
        );
      return pieces;
    };
    return {
      def,
      slotOffset: lo,
      length: slot.length,
      params: tps.map((t) => this.entry(t, pp, 0)),
      moments: tps.map(momentPieces),
    };
  }

  /** The mixed-precision training state the checkpoint carries (every file holds the same),
   *  read from a file already fetched when there is one; null for an f32 checkpoint. */
  async training(): Promise<TrainingMeta | null> {
    const files = this.manifest.files;
    const f = files.find((x) => this.fetched.includes(x.name)) ?? files[0];
    return f ? ((await this.file(f)).header.training ?? null) : null;
  }

  private file(f: ManifestFile): Promise<DecodedRankFile> {
    let p = this.files.get(f.name);
    if (!p) {
      this.fetched.push(f.name);
      p = this.load(f);
      this.files.set(f.name, p);
    }
    return p;
  }

  private async load(f: ManifestFile): Promise<DecodedRankFile> {
    let bytes: Uint8Array;
    try {
      bytes = await this.readFile(f.name);
    } catch (e) {
      throw new CheckpointError('not_found', `${f.name} (rank ${f.rank}) could not be read: ${(e as Error).message}`);
    }
    if (bytes.length !== f.bytes)
      throw new CheckpointError(
        'checksum_mismatch',
        `${f.name} (rank ${f.rank}): ${bytes.length} bytes, the manifest says ${f.bytes}`,
      );
    const sha = await sha256Hex(bytes);
    if (sha !== f.sha256)
      throw new CheckpointError(
        'checksum_mismatch',
        `${f.name} (rank ${f.rank}): sha256 ${sha} does not match the manifest's ${f.sha256}`,
      );
    const d = decodeRankFile(bytes, f.name);
    const h = d.header;
    if (h.coord.rank !== f.rank || h.step !== this.manifest.step || !sameLayout(h.layout, this.manifest.layout)) {
      throw new CheckpointError(
        'invalid_file',
        `${f.name}: its metadata (rank ${h.coord.rank}, step ${h.step}) does not match the manifest (rank ${f.rank}, step ${this.manifest.step})`,
      );
    }
    return d;
  }
}
