// Compressed traffic: int8 with per-block scales and error feedback for data-parallel
// all-reduces (local SGD's pseudo-gradients), fp16/int8 per-row codecs for pipeline tensors.
export {
  compressedAllReduce,
  ringBytesSent,
  transportP2P,
  type CompressedAllReduceOptions,
  type PointToPoint,
} from './compressed-ring';
export { fromHalfBits, toHalfBits } from './half';
export { blockCount, decodeInt8Blocks, encodeInt8Blocks, int8Bytes } from './int8-blocks';
export { decodeRows, encodeRows, rowCodecBytes, type RowCodec } from './row-codec';
export { codecFor, f32Codec, int8Codec, type WireCodec } from './wire-codec';
