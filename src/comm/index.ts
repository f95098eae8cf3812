// Public surface of src/comm (what the trainer and the tab page import).
export {
  CommError,
  DEFAULT_TIMEOUT_MS,
  type RecvOptions,
  type SendOptions,
  type Tag,
  type Transport,
} from './transport';
export { createLoopbackWorld, LoopbackTransport, type LoopbackWorld } from './loopback';
export { Group } from './group';
export {
  allGather,
  allReduce,
  barrier,
  broadcast,
  cpuReduce,
  reduceScatter,
  type CollectiveOptions,
  type ReduceOp,
  type Reducer,
} from './collectives';
export { chunkBounds, reductionOrder, ringPlan, type RingPlan } from './ring-plan';
export { firstBitDifference, referenceAllGather, referenceAllReduce, referenceReduceScatter } from './reference';
