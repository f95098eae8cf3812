// Sharded checkpoints, the browser-safe part (the directory store is ./fs-store, Node only).

export * from './layout';
export { sha256Hex } from './sha256';
export {
  encodeRankFile,
  decodeRankFile,
  describeRankFile,
  rankStateOf,
  type RankFileHeader,
  type DecodedRankFile,
} from './rank-file';
export { parseManifest, makeManifest, type Manifest, type ManifestFile } from './manifest';
export { CheckpointReader, type FullTensor, type ReadFile } from './assemble';
export {
  checkCompatible,
  loadRankState,
  reshardTensors,
  targetLayout,
  type ReshardTarget,
  type ReshardedState,
} from './reshard';
export { mergeCheckpoint, SINGLE_RANK, type MergedCheckpoint } from './merge';
export { CheckpointWriter, type CheckpointStore, type PutInfo, type PutResult, type StoreBackend } from './store';
export { MemoryBackend, memoryCheckpointStore } from './memory-store';
export { saveRankState, openCheckpoint, loadFromStore, type OpenedCheckpoint } from './save-load';
export {
  HttpCheckpointStore,
  CheckpointHttpError,
  type HttpStoreOptions,
  type CheckpointAuth,
  type CheckpointList,
  type IterationSummary,
} from './http-store';
