// `tabtron export-hf <checkpoint> --out <dir> [--iteration N] [--tokenizer-type T] [--force]`:
// any layout's checkpoint as a Hugging Face model folder that transformers loads:
// config.json, model.safetensors and the tokenizer files (src/hf/).

import { Command } from 'commander';
import { layoutText } from '../src/checkpoint/layout';
import { chooseTokenizer } from '../src/hf/choose-tokenizer';
import { exportHf } from '../src/hf/export';
import { chooseArchitecture } from '../src/hf/hf-config';
import { checkpointTensors } from '../src/hf/flat';
import { intArg } from './args';
import { openDir } from './checkpoint';
import { writeFolder } from './write-files';

export interface ExportOptions {
  out: string;
  iteration?: number;
  tokenizerType?: string;
  force?: boolean;
}

export async function exportHfCommand(dir: string, o: ExportOptions): Promise<string> {
  const { iteration, store, manifest } = await openDir(dir, o.iteration);
  const spec = manifest.spec;
  chooseArchitecture(spec); // a model HF cannot express is refused before anything else
  const tok = chooseTokenizer({ V: spec.V, source: dir, explicit: o.tokenizerType });
  if (tok.note) process.stderr.write(`tokenizer: ${tok.note}\n`);
  const tensors = await checkpointTensors(manifest, (name) => store.get(iteration, name));
  const out = exportHf(spec, tensors, tok.name);
  writeFolder(o.out, out.files, o.force);
  return (
    `exported ${dir} iteration ${iteration} (step ${manifest.step}, ${layoutText(manifest.layout)}) to ${o.out}: ` +
    `${out.arch}, ${out.tensors} tensors, tokenizer ${tok.name}; files ${Object.keys(out.files).join(', ')}\n`
  );
}

export function exportHfCliCommand(): Command {
  return new Command('export-hf')
    .description(
      'write a checkpoint (any layout) as a Hugging Face model folder (config.json, model.safetensors, tokenizer)',
    )
    .argument('<checkpoint>', 'checkpoint directory (its latest iteration) or one iter_NNNNNNN folder')
    .requiredOption('--out <dir>', 'the Hugging Face folder to write')
    .option('--iteration <n>', 'which iteration (default: latest)', intArg('--iteration', 0))
    .option('--tokenizer-type <name>', 'GPT2BPETokenizer or CharLevelTokenizer (default: from the vocabulary size)')
    .option('--force', 'replace files already in --out')
    .action(async (dir: string, o: ExportOptions) => {
      process.stdout.write(await exportHfCommand(dir, o));
    });
}
