// Warnings for what a config asks that tabtron does not do (yet): NeoX keys outside
// support.ts's IMPLEMENTED_KEYS set to a non-default value, and values of implemented
// keys outside IMPLEMENTED_VALUES. Not silence, not an error.

import { halfStorageLimits, type HalfStorage } from '../parallel/half-storage';
import { inFiles, showValue } from './errors';
import { OTHER_NEOX_KEYS } from './neox-keys';
import { configShape, type ModeledKey } from './schema';
import {
  IMPLEMENTED_KEYS,
  IMPLEMENTED_OPTIMIZER_PARAMS,
  IMPLEMENTED_PRECISION_KEYS,
  IMPLEMENTED_VALUES,
  TOKENIZER_VOCAB_SIZES,
} from './support';

type Values = Record<string, unknown>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function neoxDefault(key: string): unknown {
  if (key in configShape) return configShape[key as ModeledKey].safeParse(undefined).data ?? null;
  return OTHER_NEOX_KEYS[key] ?? null;
}

function unimplementedKeys(given: Values, sources: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [key, file] of Object.entries(sources)) {
    if (IMPLEMENTED_KEYS.has(key) || same(given[key], neoxDefault(key))) continue;
    out.push(
      inFiles(
        [file],
        `${key} is a NeoX key that tabtron does not implement yet; ignored (value ${showValue(given[key])})`,
      ),
    );
  }
  return out;
}

function valueNotImplemented(name: string, value: unknown, how: string, file: string | undefined): string | null {
  const allowed = IMPLEMENTED_VALUES[name];
  if (!allowed || allowed.includes(value)) return null;
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  return inFiles([file], `${how} ${showValue(value)} is not implemented in tabtron yet (implemented: ${list})`);
}

function unimplementedValues(config: Values, sources: Record<string, string>): string[] {
  const out: Array<string | null> = [];
  for (const key of [
    'tokenizer_type',
    'norm',
    'pos_emb',
    'activation',
    'init_method',
    'output_layer_init_method',
    'data_impl',
    'pack_impl',
  ]) {
    if (key in sources) out.push(valueNotImplemented(key, config[key], key, sources[key]));
  }
  const precisionFrom = sources.precision ?? sources.fp16 ?? sources.bf16;
  const dict = config.precision === 'bfloat16' ? 'bf16' : 'fp16';
  const how = 'precision' in sources ? 'precision' : `${dict}.enabled: true, i.e. precision`;
  const precision = valueNotImplemented('precision', config.precision, how, precisionFrom);
  out.push(precision && `${precision}; training runs in f32`);
  if ('optimizer' in sources) {
    out.push(valueNotImplemented('optimizer_type', config.optimizer_type, 'optimizer.type', sources.optimizer));
  }
  if ('zero_optimization' in sources) {
    const stage = (config.zero_optimization as { stage: number }).stage;
    out.push(valueNotImplemented('zero_stage', stage, 'zero_optimization.stage', sources.zero_optimization));
  }
  if ('attention_config' in sources) {
    for (const type of new Set(config.attention_config as string[])) {
      out.push(valueNotImplemented('attention_type', type, 'attention_config type', sources.attention_config));
    }
  }
  return out.filter((w): w is string => w !== null);
}

function optimizerParamWarnings(config: Values, sources: Record<string, string>): string[] {
  if (!('optimizer' in sources)) return [];
  const params = (config.optimizer as { params: Record<string, unknown> }).params;
  const out: string[] = [];
  for (const key of Object.keys(params)) {
    if (!IMPLEMENTED_OPTIMIZER_PARAMS.has(key)) {
      out.push(inFiles([sources.optimizer], `optimizer.params.${key} is not implemented in tabtron yet; ignored`));
    }
  }
  if (params.weight_decay !== undefined && params.weight_decay !== config.weight_decay) {
    out.push(
      inFiles(
        [sources.optimizer],
        `optimizer.params.weight_decay (${params.weight_decay}) is ignored: NeoX applies the top-level weight_decay (${config.weight_decay})`,
      ),
    );
  }
  return out;
}

/** Keys of the DeepSpeed `fp16` / `bf16` blocks that tabtron's mixed precision does not read. */
function precisionBlockWarnings(config: Values, sources: Record<string, string>): string[] {
  const out: string[] = [];
  for (const block of ['fp16', 'bf16'] as const) {
    if (!(block in sources)) continue;
    for (const key of Object.keys(config[block] as Values)) {
      if (!IMPLEMENTED_PRECISION_KEYS[block].includes(key))
        out.push(inFiles([sources[block]], `${block}.${key} is not implemented in tabtron yet; ignored`));
    }
  }
  return out;
}

function tokenizerFileWarnings(config: Values, sources: Record<string, string>): string[] {
  const type = config.tokenizer_type as string;
  if (TOKENIZER_VOCAB_SIZES[type] === undefined) return [];
  return ['vocab_file', 'merge_file']
    .filter((key) => key in sources)
    .map((key) => inFiles([sources[key]], `${key} is ignored: tabtron's ${type} has a built-in vocabulary`));
}

function dataPathWarnings(config: Values, sources: Record<string, string>): string[] {
  const separate = ['train_data_paths', 'valid_data_paths', 'test_data_paths'];
  if (!config.data_path || !separate.every((k) => config[k] != null)) return [];
  return [
    inFiles(
      [sources.data_path, ...separate.map((k) => sources[k])],
      'data_path is ignored: train/valid/test_data_paths are set, and they are what NeoX reads (NeoX itself refuses both)',
    ),
  ];
}

function sequenceParallelWarnings(config: Values, sources: Record<string, string>): string[] {
  if (!config.sequence_parallel || (config.model_parallel_size as number) > 1) return [];
  return [
    inFiles(
      [sources.sequence_parallel],
      'sequence_parallel has no effect with model_parallel_size 1 (as in NeoX): it splits the TP group’s norm, dropout and residual work along the sequence',
    ),
  ];
}

/** fp16 / bf16 with half_storage asked where the layout keeps that part in f32 (named by its key). */
function halfStorageWarnings(config: Values, sources: Record<string, string>): string[] {
  if (config.precision !== 'fp16' && config.precision !== 'bfloat16') return [];
  const stage = (config.zero_optimization as { stage: number }).stage;
  return halfStorageLimits(config.half_storage as HalfStorage, { zeroStage: stage }).map((l) =>
    inFiles(
      [sources[l.key.split('.')[0]]],
      `${l.key}: ${stage} with ${config.precision}: ${l.why} whenever it runs (more than one ` +
        `data-parallel replica); half_storage.${l.part} ` +
        (l.effect ? `only decides there that ${l.effect}` : 'has no effect there'),
    ),
  );
}

/**
 * @param given the merged values as the user wrote them (top-level keys canonical)
 * @param config the resolved values (defaults and derived values filled in)
 */
export function collectWarnings(given: Values, config: Values, sources: Record<string, string>): string[] {
  return [
    ...unimplementedKeys(given, sources),
    ...unimplementedValues(config, sources),
    ...optimizerParamWarnings(config, sources),
    ...precisionBlockWarnings(config, sources),
    ...tokenizerFileWarnings(config, sources),
    ...dataPathWarnings(config, sources),
    ...sequenceParallelWarnings(config, sources),
    ...halfStorageWarnings(config, sources),
  ];
}
