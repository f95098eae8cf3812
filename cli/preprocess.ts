// `tabtron preprocess`: GPT-NeoX's tools/datasets/preprocess_data.py flags and output naming,
// JSON lines in, Megatron/NeoX mmap datasets out (<output-prefix>_<key>_document.bin/.idx),
// streamed with a progress bar on stderr.
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { TOKENIZER_VOCAB_SIZES } from '../src/config/support';
import { PreprocessError, preprocess } from '../src/node/preprocess';
import { CliError } from './train-tabs';

export interface PreprocessCliOptions {
  input: string;
  outputPrefix: string;
  tokenizerType: string;
  jsonlKeys: string[];
  appendEod?: boolean;
  workers: number;
  numDocs?: number;
  vocabFile?: string;
  mergeFile?: string;
  datasetImpl: string;
  ftfy?: boolean;
  logInterval?: number;
  quiet?: boolean;
}

export async function preprocessCommand(o: PreprocessCliOptions): Promise<number> {
  if (o.ftfy) throw new CliError('--ftfy (text repair with the Python ftfy package) is not available in tabtron');
  if (o.datasetImpl !== 'mmap')
    throw new CliError(`--dataset-impl ${o.datasetImpl}: tabtron writes mmap datasets only (--dataset-impl mmap)`);
  if (TOKENIZER_VOCAB_SIZES[o.tokenizerType] === undefined)
    throw new CliError(
      `--tokenizer-type ${o.tokenizerType} is not available in tabtron; choose one of ${Object.keys(TOKENIZER_VOCAB_SIZES).join(', ')}`,
    );
  for (const [flag, file] of [
    ['--vocab-file', o.vocabFile],
    ['--merge-file', o.mergeFile],
  ])
    if (file)
      process.stderr.write(
        `warning: ${flag} ${file} is ignored: tabtron's ${o.tokenizerType} has a built-in vocabulary\n`,
      );
  const bar = new cliProgress.SingleBar(
    {
      format: 'preprocess |{bar}| {percentage}% | {docs} documents | {mbs} MB/s',
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  let started = false;
  try {
    const outputs = await preprocess({
      inputs: o.input.split(','),
      outputPrefix: o.outputPrefix,
      tokenizerType: o.tokenizerType,
      jsonlKeys: o.jsonlKeys,
      appendEod: Boolean(o.appendEod),
      workers: o.workers,
      onProgress: (p) => {
        if (o.quiet) return;
        const docs = o.numDocs ? `${p.documents}/${o.numDocs}` : String(p.documents);
        const mbs = (p.bytes / 1e6 / Math.max((Date.now() - t0) / 1000, 1e-3)).toFixed(2);
        if (!started) bar.start(Math.max(p.totalBytes, 1), 0, { docs, mbs });
        started = true;
        bar.update(p.bytes, { docs, mbs });
      },
    });
    bar.stop();
    for (const out of outputs)
      process.stdout.write(
        `${out.prefix}.bin/.idx: ${out.documents} documents, ${out.tokens} ${out.dtype} tokens (key "${out.key}")\n`,
      );
    return 0;
  } catch (e) {
    if (e instanceof PreprocessError) throw new CliError(e.message);
    throw e;
  } finally {
    bar.stop();
  }
}

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got ${v}`);
  return n;
};

export function preprocessCliCommand(): Command {
  return new Command('preprocess')
    .description(
      'tokenize JSON-lines documents into Megatron/NeoX mmap datasets (<output-prefix>_<key>_document.bin/.idx), as NeoX’s tools/datasets/preprocess_data.py',
    )
    .requiredOption('--input <files>', 'input .jsonl (or .jsonl.gz) files, comma-separated')
    .option('--jsonl-keys <keys...>', 'JSON fields to tokenize, one output dataset each', ['text'])
    .option('--num-docs <n>', 'number of documents, if known (for the progress display)', positiveInt('--num-docs'))
    .requiredOption('--tokenizer-type <type>', 'GPT2BPETokenizer or CharLevelTokenizer')
    .option('--vocab-file <file>', "ignored: tabtron's tokenizers have built-in vocabularies")
    .option('--merge-file <file>', "ignored: tabtron's tokenizers have built-in vocabularies")
    .option('--append-eod', 'append the end-of-document token to every document')
    .option('--ftfy', 'not available (NeoX: repair text with ftfy)')
    .requiredOption('--output-prefix <prefix>', 'output path without suffix')
    .option('--dataset-impl <impl>', 'mmap (the only format tabtron writes)', 'mmap')
    .option('--workers <n>', 'tokenizer threads', positiveInt('--workers'), 1)
    .option('--log-interval <n>', 'accepted for NeoX compatibility (the progress bar updates continuously)', Number)
    .option('--quiet', 'no progress bar')
    .action(async (opts: PreprocessCliOptions) => {
      process.exitCode = await preprocessCommand(opts);
    });
}
