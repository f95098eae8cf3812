// `tabtron import-hf <hf-dir> --out <checkpoint-dir> [--config extra.yml] [--tokenizer-type T]`:
// a GPTNeoXForCausalLM (or GPT2LMHeadModel) folder as a single-rank tabtron checkpoint
// (iteration 0, step 0, manifest and latest pointer) plus <checkpoint-dir>/neox.yml, the NeoX
// config that builds the same model and loads it: `tabtron train <checkpoint-dir>/neox.yml`
// fine-tunes it. extra.yml gives the training keys (optimizer, batch, train_iters, data, ...).

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import { SINGLE_RANK } from '../src/checkpoint/merge';
import { rankFileName } from '../src/checkpoint/layout';
import { sha256Hex } from '../src/checkpoint/sha256';
import { parseConfigText } from '../src/config/parse';
import { chooseTokenizer } from '../src/hf/choose-tokenizer';
import { readHfFolder } from '../src/hf/hf-folder';
import { importCheckpoint } from '../src/hf/import';
import { CliError } from './errors';
import { writeFolder } from './write-files';

export const NEOX_CONFIG_NAME = 'neox.yml';

export interface ImportOptions {
  out: string;
  config?: string;
  tokenizerType?: string;
}

function readUserConfig(path: string | undefined): { data: Record<string, unknown>; file: string } {
  if (!path) return { data: {}, file: 'the extra config' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(
      `--config ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return { data: parseConfigText(text, path).data, file: path };
}

export async function importHfCommand(dir: string, o: ImportOptions): Promise<string> {
  const user = readUserConfig(o.config);
  const store = fsCheckpointStore(o.out);
  const existing = await store.iterations();
  if (existing.length || existsSync(join(o.out, NEOX_CONFIG_NAME)))
    throw new CliError(
      `${o.out} already holds ${existing.length ? `checkpoint iterations ${existing.join(', ')}` : NEOX_CONFIG_NAME}; import into a new directory (nothing was written)`,
    );
  const seq = Object.entries(user.data).find(([k]) => k.replaceAll('-', '_') === 'seq_length')?.[1];
  const model = readHfFolder(dir, typeof seq === 'number' ? { T: seq } : {});
  for (const w of model.warnings) process.stderr.write(`warning: ${w}\n`);
  const tok = chooseTokenizer({
    V: model.spec.V,
    source: dir,
    explicit:
      o.tokenizerType ??
      (user.data.tokenizer_type as string | undefined) ??
      (user.data['tokenizer-type'] as string | undefined),
    files: { kind: model.tokenizerFiles, name: model.tokenizer },
  });
  if (tok.note) process.stderr.write(`tokenizer: ${tok.note}\n`);
  const load = resolve(o.out);
  const imported = importCheckpoint(model.spec, model.tensors, tok.name, load, user.data, user.file);
  for (const w of imported.warnings) process.stderr.write(`warning: ${w}\n`);
  await store.put(0, rankFileName(0), imported.rankFile, {
    sha256: await sha256Hex(imported.rankFile),
    layout: SINGLE_RANK,
  });
  const header =
    `# NeoX config written by tabtron import-hf from ${dir} (${model.arch}).\n` +
    '# Model keys come from its config.json; training keys from --config or fine-tuning defaults.\n' +
    `# Fine-tune: npx tabtron train ${join(o.out, NEOX_CONFIG_NAME)}\n`;
  writeFolder(o.out, { [NEOX_CONFIG_NAME]: header + stringify(imported.config) });
  const s = imported.spec;
  return (
    `imported ${dir} (${model.arch}: ${s.L} layers, hidden ${s.C}, ${s.H} heads, vocab ${s.V}, ${s.posEmb} positions, tokenizer ${tok.name}) ` +
    `into ${o.out}: iteration 0 (1 rank) and ${join(o.out, NEOX_CONFIG_NAME)}\n` +
    `fine-tune it with: npx tabtron train ${join(o.out, NEOX_CONFIG_NAME)}\n`
  );
}

export function importHfCliCommand(): Command {
  return new Command('import-hf')
    .description('make a tabtron checkpoint (and its NeoX config) from a Hugging Face GPTNeoXForCausalLM folder')
    .argument('<hf-dir>', 'folder with config.json and model.safetensors (or its sharded index)')
    .requiredOption('--out <dir>', 'new checkpoint directory (gets iter_0000000/, latest and neox.yml)')
    .option('--config <extra.yml>', 'NeoX keys for fine-tuning (optimizer, batch, train_iters, data, ...)')
    .option(
      '--tokenizer-type <name>',
      'GPT2BPETokenizer or CharLevelTokenizer (default: from the tokenizer files or vocabulary)',
    )
    .action(async (dir: string, o: ImportOptions) => {
      process.stdout.write(await importHfCommand(dir, o));
    });
}
