// Where checkpoints live, and the writer that makes an iteration appear only when whole.
//
// Every put carries the layout its writer saved under, so the store knows the iteration's
// expected files (writerRanks). Each put is checked (SHA-256 of the bytes against the writer's,
// the file's own metadata against its name, layout and the other files of the iteration) and
// stored; once every expected file is there, manifest.json is written last (atomically where
// the backend can) and then the `latest` pointer. Files of an iteration that already has a
// manifest are never replaced. Stored files of an incomplete iteration that do not fit the
// newest put (another layout, step or model, or unreadable: an abandoned earlier attempt, e.g.
// a crashed run with other parallel sizes) can never complete with it, so they are removed and
// named in the result; on completion, rank files the manifest does not list are removed too. Puts are serialised per store, so two last files arriving at
// once still give one manifest.

import {
  CheckpointError,
  LATEST_NAME,
  MANIFEST_NAME,
  iterationDirName,
  iterationOfDirName,
  layoutText,
  rankFileName,
  rankOfFileName,
  sameLayout,
  writerRanks,
  type CheckpointLayout,
} from './layout';
import {
  makeManifest,
  manifestEntryOf,
  parseManifest,
  type Manifest,
  type ManifestFile,
  type ReceivedFile,
} from './manifest';
import { describeRankFile } from './rank-file';
import { sha256Hex } from './sha256';

export interface PutInfo {
  /** SHA-256 (hex) of the bytes as the writer computed them */
  sha256: string;
  /** the layout the writer saved under */
  layout: CheckpointLayout;
}

export interface PutResult {
  iteration: number;
  file: Omit<ManifestFile, 'tensors'>;
  /** true once this put completed the iteration (its manifest is written) */
  complete: boolean;
  /** expected files not yet stored */
  missing: string[];
  /** stored files of this incomplete iteration removed because they did not fit this put */
  discarded: string[];
}

export interface CheckpointStore {
  put(iteration: number, fileName: string, bytes: Uint8Array, info: PutInfo): Promise<PutResult>;
  /** a file of a complete iteration */
  get(iteration: number, fileName: string): Promise<Uint8Array>;
  /** null while the iteration is incomplete or absent */
  manifest(iteration: number): Promise<Manifest | null>;
  /** the newest complete iteration, or null */
  latest(): Promise<number | null>;
  /** complete iterations, ascending */
  iterations(): Promise<number[]>;
}

/** What a store keeps its bytes in (memory, a directory). Paths are `iteration/name`. */
export interface StoreBackend {
  /** how errors name a stored file */
  where(iteration: number | null, name: string): string;
  /** replaces atomically: readers see the old bytes or the new, never part */
  write(iteration: number | null, name: string, bytes: Uint8Array): Promise<void>;
  read(iteration: number | null, name: string): Promise<Uint8Array | null>;
  /** names of the files stored for an iteration */
  list(iteration: number): Promise<string[]>;
  remove(iteration: number, name: string): Promise<void>;
  /** iterations with anything stored */
  iterations(): Promise<number[]>;
}

interface Known extends ReceivedFile {
  iteration: number;
}

export class CheckpointWriter implements CheckpointStore {
  private queue: Promise<unknown> = Promise.resolve();
  /** described files by `iteration/name` (re-read from the backend after a restart) */
  private readonly known = new Map<string, Known>();

  constructor(
    readonly backend: StoreBackend,
    readonly opts: { readOnly?: boolean } = {},
  ) {}

  put(iteration: number, fileName: string, bytes: Uint8Array, info: PutInfo): Promise<PutResult> {
    const run = this.queue.then(() => this.putNow(iteration, fileName, bytes, info));
    this.queue = run.catch(() => {});
    return run;
  }

  async get(iteration: number, fileName: string): Promise<Uint8Array> {
    const m = await this.manifest(iteration);
    if (!m)
      throw new CheckpointError(
        'not_found',
        `iteration ${iteration} has no complete checkpoint (${this.backend.where(iteration, MANIFEST_NAME)})`,
      );
    if (!m.files.some((f) => f.name === fileName))
      throw new CheckpointError('not_found', `iteration ${iteration} has no file ${fileName}`);
    const bytes = await this.backend.read(iteration, fileName);
    if (!bytes)
      throw new CheckpointError(
        'not_found',
        `${this.backend.where(iteration, fileName)} is listed in the manifest but missing`,
      );
    return bytes;
  }

  async manifest(iteration: number): Promise<Manifest | null> {
    const bytes = await this.backend.read(iteration, MANIFEST_NAME);
    return bytes && parseManifest(new TextDecoder().decode(bytes), this.backend.where(iteration, MANIFEST_NAME));
  }

  async iterations(): Promise<number[]> {
    const all = await this.backend.iterations();
    const complete: number[] = [];
    for (const it of all) if ((await this.backend.list(it)).includes(MANIFEST_NAME)) complete.push(it);
    return complete.sort((a, b) => a - b);
  }

  async latest(): Promise<number | null> {
    const pointer = await this.backend.read(null, LATEST_NAME);
    const named = pointer ? iterationOfDirName(new TextDecoder().decode(pointer)) : null;
    if (named !== null && (await this.backend.list(named)).includes(MANIFEST_NAME)) return named;
    return (await this.iterations()).at(-1) ?? null;
  }

  private async putNow(iteration: number, fileName: string, bytes: Uint8Array, info: PutInfo): Promise<PutResult> {
    const where = this.backend.where(iteration, fileName);
    if (this.opts.readOnly) throw new CheckpointError('read_only', `${where}: this checkpoint store is read-only`);
    if (!Number.isInteger(iteration) || iteration < 0)
      throw new CheckpointError('invalid_file', `${where}: iteration ${iteration} is not a non-negative integer`);
    if (await this.manifest(iteration)) {
      throw new CheckpointError(
        'checkpoint_complete',
        `${where}: iteration ${iteration} is already a complete checkpoint; its files are not replaced`,
      );
    }
    const sha256 = await sha256Hex(bytes);
    if (sha256 !== info.sha256) {
      throw new CheckpointError(
        'checksum_mismatch',
        `${fileName}${rankNote(fileName)}: sha256 of the received ${bytes.length} bytes is ${sha256}, the writer said ${info.sha256}`,
      );
    }
    const header = describeRankFile(bytes, fileName);
    if (fileName !== rankFileName(header.coord.rank))
      throw new CheckpointError(
        'invalid_file',
        `${fileName}: holds rank ${header.coord.rank}, whose file is ${rankFileName(header.coord.rank)}`,
      );
    if (!sameLayout(header.layout, info.layout)) {
      throw new CheckpointError(
        'layout_mismatch',
        `${fileName}: saved for ${layoutText(header.layout)}, but the checkpoint's layout is ${layoutText(info.layout)}`,
      );
    }
    const writers = writerRanks(info.layout);
    if (!writers.includes(header.coord.rank))
      throw new CheckpointError(
        'invalid_file',
        `${fileName}: rank ${header.coord.rank} writes no file in ${layoutText(info.layout)}`,
      );
    const file: Known = { iteration, name: fileName, bytes: bytes.length, sha256, header };
    const discarded: string[] = [];
    const others: Known[] = [];
    for (const name of (await this.backend.list(iteration)).filter(
      (n) => n !== fileName && rankOfFileName(n) !== null,
    )) {
      const o = await this.describe(iteration, name);
      if (o && fits(file, o)) others.push(o);
      else discarded.push(name);
    }
    for (const name of discarded) {
      await this.backend.remove(iteration, name);
      this.known.delete(`${iteration}/${name}`);
    }
    await this.backend.write(iteration, fileName, bytes);
    this.known.set(`${iteration}/${fileName}`, file);
    const present = [file, ...others];
    const missing = writers.map(rankFileName).filter((n) => !present.some((p) => p.name === n));
    const result = (complete: boolean): PutResult => {
      const { tensors: _t, ...entry } = manifestEntryOf(file);
      return { iteration, file: entry, complete, missing, discarded };
    };
    if (missing.length) return result(false);
    const manifest = makeManifest(iteration, info.layout, present);
    await this.backend.write(
      iteration,
      MANIFEST_NAME,
      new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`),
    );
    for (const name of await this.backend.list(iteration)) {
      if (rankOfFileName(name) !== null && !manifest.files.some((f) => f.name === name))
        await this.backend.remove(iteration, name);
    }
    const current = await this.latest();
    if (current === null || iteration >= current)
      await this.backend.write(null, LATEST_NAME, new TextEncoder().encode(`${iterationDirName(iteration)}\n`));
    return result(true);
  }

  /** A stored file, described (from the cache, or re-read after a restart); null if unreadable. */
  private async describe(iteration: number, name: string): Promise<Known | null> {
    const cached = this.known.get(`${iteration}/${name}`);
    if (cached) return cached;
    const bytes = await this.backend.read(iteration, name);
    if (!bytes) return null;
    try {
      const k = {
        iteration,
        name,
        bytes: bytes.length,
        sha256: await sha256Hex(bytes),
        header: describeRankFile(bytes, this.backend.where(iteration, name)),
      };
      this.known.set(`${iteration}/${name}`, k);
      return k;
    } catch {
      return null;
    }
  }
}

function rankNote(fileName: string): string {
  const r = rankOfFileName(fileName);
  return r === null ? '' : ` (rank ${r})`;
}

/** Files of one checkpoint: same layout, step and model. */
function fits(a: Known, b: Known): boolean {
  return (
    sameLayout(a.header.layout, b.header.layout) &&
    a.header.step === b.header.step &&
    JSON.stringify(a.header.spec) === JSON.stringify(b.header.spec)
  );
}
