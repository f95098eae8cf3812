// `tabtron data inspect PREFIX [--json]`: what a Megatron/NeoX mmap dataset holds, every table
// checked against the others and the .bin, and a SHA-256 over its tokens (as little-endian u32).
import { Command } from 'commander';
import { DataFormatError } from '../src/data/mmap-format';
import { inspectDataset } from '../src/node/inspect-data';
import { CliError } from './train-tabs';

export async function inspectCommand(prefix: string, opts: { json?: boolean }): Promise<number> {
  let s: Awaited<ReturnType<typeof inspectDataset>>;
  try {
    s = await inspectDataset(prefix);
  } catch (e) {
    if (e instanceof DataFormatError) throw new CliError(e.message);
    throw e;
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
  else
    process.stdout.write(
      `${prefix}: Megatron/NeoX mmap dataset, ${s.dtype} tokens\n` +
        `  ${s.documents} documents, ${s.sequences} sequences, ${s.tokens} tokens\n` +
        `  sha256 of the tokens as little-endian uint32: ${s.sha256_tokens_u32le}\n`,
    );
  return 0;
}

export function dataCommand(): Command {
  const data = new Command('data').description('look at tokenized datasets');
  data
    .command('inspect')
    .description('summarise a Megatron/NeoX mmap dataset (<prefix>.bin + <prefix>.idx) and check its files')
    .argument('<prefix>', 'the dataset prefix (e.g. data/mydata_text_document), or its .bin or .idx file')
    .option('--json', 'print {"format", "dtype", "sequences", "documents", "tokens", "sha256_tokens_u32le"}')
    .action(async (prefix: string, opts: { json?: boolean }) => {
      process.exitCode = await inspectCommand(prefix, opts);
    });
  return data;
}
