// Where a run's data files are read from: local disk (Node: src/node/data-files.ts) or the
// coordinator over HTTP (tabs: src/data/http-files.ts). Paths are the config's, as written.

import type { IndexedFiles } from './indexed-dataset';
import type { ReadTokens } from './dataset';
import type { Tokenizer } from './tokenizer';

export interface TextTokens {
  numTokens: number;
  read: ReadTokens;
}

export interface DataFiles {
  /** An indexed dataset prefix (`<path>.idx` + `<path>.bin`) or a UTF-8 text file. */
  kind(path: string): Promise<'indexed' | 'text'>;
  indexed(prefix: string): Promise<IndexedFiles>;
  /** A text file tokenized with `tokenizer` (by this process, or by the coordinator). */
  textTokens(path: string, tokenizer: Tokenizer): Promise<TextTokens>;
  /** read and check every table of an .idx on open (else the header and sizes only) */
  readonly verify: boolean;
}

/** What a rank trains on (serialisable except `files`). */
export type DataSource =
  /** text in memory (a tab given its text, the default corpus): the config's data paths are not read */
  | { kind: 'text'; text: string }
  /** the run's data through the coordinator's data API (tabs) */
  | { kind: 'coordinator'; coordinatorUrl: string; runId: string; auth: DataAuth }
  /** the config's paths through these files (Node: local disk) */
  | { kind: 'files'; files: DataFiles };

export type DataAuth = { participantId: string; secret: string } | { adminToken: string };
