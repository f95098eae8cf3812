// Every real GPT-NeoX config in shared/reference loads: the model configs on their own
// and, as NeoX users run them, followed by local_setup.yml; the partial files
// (local_setup.yml, cpu_mock_config.yml) parse and merge onto a model config.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from './index';
import { referenceConfigsDir } from './reference-configs-dir';

const REF = join(referenceConfigsDir(), '/');
const PARTIAL = ['local_setup.yml', 'cpu_mock_config.yml'];
const all = [
  ...readdirSync(REF).filter((f) => f.endsWith('.yml')),
  ...readdirSync(`${REF}pythia`).map((f) => `pythia/${f}`),
];
const models = all.filter((f) => !PARTIAL.includes(f));

/** The file's own value for a key, read by a plain YAML parse, dashes or underscores. */
function fileValue(file: string, key: string): unknown {
  const data = parse(readFileSync(REF + file, 'utf8')) as Record<string, unknown>;
  return data[key] ?? data[key.replaceAll('_', '-')];
}

describe('NeoX reference configs', () => {
  it('finds the reference configs (shared/ beside the repo)', () => {
    expect(models.length).toBeGreaterThanOrEqual(10);
    expect(all).toEqual(expect.arrayContaining(PARTIAL));
  });

  it.each(all)('%s parses as a mapping', (file) => {
    const raw = parseConfigText(readFileSync(REF + file, 'utf8'), file);
    expect(Object.keys(raw.data).length).toBeGreaterThan(0);
  });

  it.each(models)('%s loads alone and keeps its own values', (file) => {
    const { config } = loadConfig([REF + file]);
    for (const key of ['num_layers', 'hidden_size', 'num_attention_heads', 'seq_length', 'train_iters'] as const) {
      expect(config[key]).toBe(fileValue(file, key));
    }
    const optimizer = fileValue(file, 'optimizer') as { params: { lr: number } };
    expect(config.lr).toBe(optimizer.params.lr);
    expect(config.optimizer.params.lr).toBe(optimizer.params.lr);
    expect(config.attention_config).toHaveLength(config.num_layers);
    expect(config.train_micro_batch_size_per_gpu).toBe(fileValue(file, 'train_micro_batch_size_per_gpu'));
    expect(config.train_batch_size).toBe(config.train_micro_batch_size_per_gpu * config.gradient_accumulation_steps);
  });

  it.each(models)('%s + local_setup.yml loads, local_setup supplying paths', (file) => {
    const { config, sources } = loadConfig([REF + file, `${REF}local_setup.yml`]);
    expect(config.data_path).toBe('data/enwik8/enwik8_text_document');
    expect(config.save).toBe('checkpoints');
    expect(sources.data_path).toBe(`${REF}local_setup.yml`);
    expect(config.hidden_size).toBe(fileValue(file, 'hidden_size'));
  });

  it('cpu_mock_config.yml merges its global_num_gpus onto a model config', () => {
    const { config } = loadConfig([`${REF}pythia/70M.yml`, `${REF}cpu_mock_config.yml`]);
    expect(config.global_num_gpus).toBe(1);
  });

  it('reads 20B.yml as NeoX does: rotary on a quarter of each head, parallel residual, 2-way TP, 4 stages', () => {
    const { config, warnings } = loadConfig([`${REF}20B.yml`]);
    expect(config).toMatchObject({
      rotary_pct: 0.25,
      gpt_j_residual: true,
      model_parallel_size: 2,
      pipe_parallel_size: 4,
      split: '995,4,1',
      min_lr: 0.97e-5,
      lr: 0.97e-4,
      intermediate_size: 4 * 6144,
      gradient_accumulation_steps: 32,
      precision: 'fp16',
      tokenizer_type: 'HFTokenizer',
      padded_vocab_size: null,
    });
    expect(config.optimizer.params.betas).toEqual([0.9, 0.95]);
    expect(warnings.some((w) => w.includes('tokenizer_type "HFTokenizer" is not implemented'))).toBe(true);
    expect(warnings.some((w) => w.includes('precision'))).toBe(false); // fp16 trains (src/train/precision.ts)
  });

  it('reads Pythia 14M attention_config [[["flash"], 6]] as six flash layers, without warning', () => {
    const { config, warnings } = loadConfig([`${REF}pythia/14M.yml`]);
    expect(config.attention_config).toEqual(Array(6).fill('flash'));
    expect(warnings.join('\n')).not.toContain('attention_config');
  });
});
