// `tabtron generate <checkpoint-or-hf-dir> --prompt "..." --max-new-tokens N [--temperature T
// --top-k K --seed S]`: prints the prompt and its continuation. Runs a forward-only model
// (src/inference) on WebGPU through Dawn. There is no KV cache: every new token re-runs the
// whole window of W = min(seq_length, prompt + new tokens) positions (padded), so N new tokens
// cost N full forward passes over W positions, and the logits row of the last real position
// is read back and sampled on the CPU (seeded; src/inference/sampler.ts).

import { Command } from 'commander';
import { getTokenizer } from '../src/data/tokenizer';
import { nextLogitsOf } from '../src/inference/evaluate';
import { ForwardModel } from '../src/inference/forward-model';
import { generateText } from '../src/inference/generate';
import { checkSampling } from '../src/inference/sampler';
import { intArg, numberArg } from './args';
import { ensureVulkanLoader, nodeGpu } from './gpu-node';
import { loadModelSource, type SourceOptions } from './model-source';
import { CliError } from './errors';

export interface GenerateCliOptions extends SourceOptions {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  json?: boolean;
}

export interface Generated {
  prompt: string;
  text: string;
  tokens: number[];
}

export async function generateCommand(path: string, o: GenerateCliOptions): Promise<Generated> {
  const src = await loadModelSource(path, o);
  if (src.tokenizer.note) process.stderr.write(`tokenizer: ${src.tokenizer.note}\n`);
  const tok = getTokenizer(src.tokenizer.name);
  const sampling = { temperature: o.temperature, topK: o.topK, vocabSize: tok.vocabSize };
  try {
    checkSampling(sampling);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const W = Math.min(src.spec.T, Math.max(1, tok.encode(o.prompt).length) + o.maxNewTokens);
  const ctx = await nodeGpu();
  const model = new ForwardModel(ctx, { ...src.spec, T: Math.max(1, W) }, 1);
  model.load(src.flat);
  const out = await generateText(tok, o.prompt, nextLogitsOf(model), {
    ...sampling,
    maxNewTokens: o.maxNewTokens,
    window: model.spec.T,
    seed: o.seed,
    stopToken: src.tokenizer.name === 'GPT2BPETokenizer' ? tok.eod : undefined,
  });
  return { prompt: o.prompt, ...out };
}

export function generateCliCommand(): Command {
  return new Command('generate')
    .description('continue a prompt with a model (forward-only WebGPU through Dawn; seeded sampling on the CPU)')
    .argument('<model>', 'checkpoint directory (or iter_NNNNNNN folder), or a Hugging Face model folder')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-new-tokens <n>', 'tokens to add (default 50)', intArg('--max-new-tokens', 0), 50)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy (default 1)', numberArg('--temperature', 0), 1)
    .option('--top-k <k>', 'sample among the k most likely tokens; 0 = all (default 0)', intArg('--top-k', 0), 0)
    .option('--seed <s>', 'random seed (default 1234)', intArg('--seed', 0), 1234)
    .option('--iteration <n>', 'checkpoint iteration (default: latest)', intArg('--iteration', 0))
    .option('--seq-length <n>', "context window (default: the model's seq_length)", intArg('--seq-length', 1))
    .option('--tokenizer-type <name>', 'GPT2BPETokenizer or CharLevelTokenizer (default: see README)')
    .option('--json', 'print {"prompt", "text", "tokens"} (text: the continuation only)')
    .action(async (model: string, o: GenerateCliOptions) => {
      ensureVulkanLoader();
      const r = await generateCommand(model, o);
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.prompt}${r.text}\n`);
      process.exit(0);
    });
}
