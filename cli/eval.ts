// `tabtron eval <checkpoint-or-hf-dir> --text FILE [--json]`: the mean next-token cross-entropy
// of the file's tokens under the model, in windows of seq_length (src/inference/windows.ts), on
// WebGPU through Dawn (the GPU, or SwiftShader). --dump-logits writes the first windows'
// inputs, targets and logits (and the file's token ids) as safetensors, for comparing with
// another implementation (tools/hf/check_transformers.py).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { writeSafetensors } from '../src/checkpoint/safetensors';
import { getTokenizer } from '../src/data/tokenizer';
import { evaluateTokens, type EvalResult } from '../src/inference/evaluate';
import { ForwardModel } from '../src/inference/forward-model';
import type { EvalWindow } from '../src/inference/windows';
import { intArg } from './args';
import { ensureVulkanLoader, nodeGpu } from './gpu-node';
import { loadModelSource, type SourceOptions } from './model-source';
import { CliError } from './errors';
import { writeFolder } from './write-files';
import { dirname, basename } from 'node:path';

export interface EvalOptions extends SourceOptions {
  text: string;
  json?: boolean;
  batch?: number;
  dumpLogits?: string;
  dumpWindows?: number;
}

export async function evalCommand(path: string, o: EvalOptions): Promise<EvalResult> {
  let text: string;
  try {
    text = readFileSync(o.text, 'utf8');
  } catch (e) {
    throw new CliError(
      `--text ${o.text}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const src = await loadModelSource(path, o);
  for (const w of src.warnings) process.stderr.write(`warning: ${w}\n`);
  if (src.tokenizer.note) process.stderr.write(`tokenizer: ${src.tokenizer.note}\n`);
  const tokens = getTokenizer(src.tokenizer.name).encode(text);
  if (tokens.length < 2) throw new CliError(`--text ${o.text}: ${tokens.length} token(s); at least 2 are needed`);
  const T = src.spec.T;
  const windows = Math.ceil((tokens.length - 1) / T);
  const B = Math.min(o.batch ?? 4, windows);
  const ctx = await nodeGpu();
  const model = new ForwardModel(ctx, src.spec, B);
  model.load(src.flat);
  const keep = o.dumpLogits ? Math.min(o.dumpWindows ?? 4, windows) : 0;
  const dumped: { w: EvalWindow; logits: Float32Array }[] = [];
  const result = await evaluateTokens(model, tokens, {
    onBatch: async (batch, m) => {
      if (dumped.length >= keep) return;
      const all = await m.logits();
      const V = m.spec.V;
      batch.forEach((w, b) => {
        if (w.count > 0 && dumped.length < keep) dumped.push({ w, logits: all.slice(b * T * V, (b + 1) * T * V) });
      });
    },
  });
  if (o.dumpLogits) {
    const V = src.spec.V,
      W = dumped.length;
    const cat = <A extends Int32Array | Float32Array>(parts: A[], make: (n: number) => A, n: number): A => {
      const out = make(W * n);
      parts.forEach((p, i) => out.set(p, i * n));
      return out;
    };
    const file = writeSafetensors(
      {
        text_ids: { dtype: 'I32', shape: [tokens.length], data: Int32Array.from(tokens) },
        input_ids: {
          dtype: 'I32',
          shape: [W, T],
          data: cat(
            dumped.map((d) => d.w.inputs),
            (n) => new Int32Array(n),
            T,
          ),
        },
        targets: {
          dtype: 'I32',
          shape: [W, T],
          data: cat(
            dumped.map((d) => d.w.targets),
            (n) => new Int32Array(n),
            T,
          ),
        },
        logits: {
          dtype: 'F32',
          shape: [W, T, V],
          data: cat(
            dumped.map((d) => d.logits),
            (n) => new Float32Array(n),
            T * V,
          ),
        },
      },
      {
        format: 'pt',
        loss: String(result.loss),
        tokens: String(result.tokens),
        seq_length: String(T),
        tokenizer: src.tokenizer.name,
        model: src.what,
      },
    );
    writeFolder(dirname(o.dumpLogits), { [basename(o.dumpLogits)]: file }, true);
  }
  return result;
}

export function evalCliCommand(): Command {
  return new Command('eval')
    .description("a model's mean next-token loss and perplexity on a text file (WebGPU through Dawn)")
    .argument('<model>', 'checkpoint directory (or iter_NNNNNNN folder), or a Hugging Face model folder')
    .requiredOption('--text <file>', 'UTF-8 text to score')
    .option('--json', 'print {"tokens", "loss", "perplexity"}')
    .option('--iteration <n>', 'checkpoint iteration (default: latest)', intArg('--iteration', 0))
    .option('--seq-length <n>', "window length (default: the model's seq_length)", intArg('--seq-length', 1))
    .option('--batch <n>', 'windows per forward pass (default 4)', intArg('--batch', 1))
    .option('--tokenizer-type <name>', 'GPT2BPETokenizer or CharLevelTokenizer (default: see README)')
    .option('--dump-logits <file>', "also write the first windows' input ids, targets and logits (safetensors)")
    .option('--dump-windows <n>', 'how many windows --dump-logits writes (default 4)', intArg('--dump-windows', 1))
    .action(async (model: string, o: EvalOptions) => {
      ensureVulkanLoader();
      const r = await evalCommand(model, o);
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ tokens: r.tokens, loss: r.loss, perplexity: r.perplexity })}\n`
          : `${model}: ${r.tokens} tokens in ${r.windows} window(s): loss ${r.loss.toFixed(6)}, perplexity ${r.perplexity.toFixed(4)}\n`,
      );
      process.exit(0);
    });
}
