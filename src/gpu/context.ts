// Owns a GPUDevice: pipeline cache, buffer allocation, uploads, readbacks, and
// binding of kernels into Dispatches. Free of DOM APIs so it runs in a Worker
// (browser) and in Node (Dawn, npm `webgpu`).

import type { BufferRange, Dispatch } from './dispatch';
import { encodeDispatches } from './dispatch';
import type { DispatchProfiler } from './profiler';
import { shaderLib } from './shader-lib';
import { StagingRing } from './staging';
import { UploadRing } from './uploads';
import type { GpuTensor } from './tensor';
import { resolveIncludes } from './wgsl-include';

export type Binding = GpuTensor | { uniform: ArrayBuffer };

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) limits[k] = Number(adapter.limits[k]);
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(
      (info as { isFallbackAdapter?: boolean })?.isFallbackAdapter ??
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

/** Requests a device with the adapter's largest buffer limits (the defaults cap bindings at 128 MiB) and the
 *  features tabtron uses where the adapter has them. */
export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = Number(adapter.limits[k]);
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups' as GPUFeatureName);
  // f16 arithmetic for fp16 runs (gpu/kernels/matmul-f16.ts)
  if (adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  readonly limits: GPUSupportedLimits;
  /** bytes; every tensor view inside a shared buffer starts at a multiple of this */
  readonly alignment: number;
  /** bytes of every GPUBuffer created through this context so far (a running total, for memory reports) */
  bytesAllocated = 0;
  /** readbacks go through these reusable staging buffers */
  readonly staging: StagingRing;
  /** writes of at least `uploadRingBytes` go through these reusable mapped buffers (uploads.ts) */
  readonly uploads: UploadRing;
  uploadRingBytes = 256 * 1024;
  /** Benchmarks' own-work timing: when set, the pipeline executor waits for the GPU after each
   *  forward and backward (so an op's span is its GPU time) and gradient buckets are reduced
   *  after the backward instead of during it. Off in training: the host runs ahead. */
  measureOps = false;
  /** Benchmarks' step profile (profiler.ts): every dispatch and clear is then timed on its own. */
  profiler: DispatchProfiler | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly adapter?: AdapterSummary,
  ) {
    this.limits = device.limits;
    this.alignment = device.limits.minStorageBufferOffsetAlignment;
    this.staging = new StagingRing(device);
    this.uploads = new UploadRing(device);
  }

  /** Compiles (once) a compute pipeline from WGSL source with override constants; the source's
   * `// #include NAME` lines are replaced by the snippets of shaders/lib/ (wgsl-include.ts). */
  pipeline(label: string, source: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${label}|${JSON.stringify(constants)}|${source.length}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    let module = this.modules.get(source);
    if (!module) {
      module = this.device.createShaderModule({ label, code: resolveIncludes(source, shaderLib, label) });
      this.modules.set(source, module);
    }
    p = this.device.createComputePipeline({
      label,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
    this.pipelines.set(key, p);
    return p;
  }

  /** The pipelines compiled so far, as `label|constants` (what start-up costs, on a CPU device). */
  compiledPipelines(): string[] {
    return [...this.pipelines.keys()].map((k) => k.slice(0, k.lastIndexOf('|')));
  }

  /** Builds a Dispatch; bindings are numbered 0..n-1 in the order given. */
  bind(
    label: string,
    pipeline: GPUComputePipeline,
    bindings: readonly Binding[],
    workgroups: readonly [number, number, number],
  ): Dispatch {
    const touches: BufferRange[] = [];
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => {
      if ('uniform' in b) {
        const buf = this.device.createBuffer({
          label: `${label}.uniform`,
          size: Math.max(16, Math.ceil(b.uniform.byteLength / 16) * 16),
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        this.device.queue.writeBuffer(buf, 0, b.uniform);
        return { binding: i, resource: { buffer: buf } };
      }
      const size = Math.max(4, b.length * 4);
      touches.push({ buffer: b.buffer, offset: b.offset, size });
      return { binding: i, resource: { buffer: b.buffer, offset: b.offset, size } };
    });
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    return { label, pipeline, bindGroup, workgroups, touches };
  }

  createBuffer(bytes: number, label = 'buffer', extraUsage = 0): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.bytesAllocated += size;
    return this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    });
  }

  /** A tensor in its own buffer. */
  tensor(shape: readonly number[], name = 'tensor'): GpuTensor {
    const length = shape.reduce((a, b) => a * b, 1);
    return { buffer: this.createBuffer(length * 4, name), offset: 0, length, shape, name };
  }

  tensorFrom(
    data: Float32Array | Int32Array | Uint32Array,
    shape: readonly number[] = [data.length],
    name = 'tensor',
  ): GpuTensor {
    const t = this.tensor(shape, name);
    this.write(t, data);
    return t;
  }

  write(t: GpuTensor, data: Float32Array | Int32Array | Uint32Array): void {
    if (data.length > t.length)
      throw new Error(`write: ${data.length} elements into ${t.name ?? 'tensor'} of ${t.length}`);
    this.writeBuffer(t.buffer, t.offset, data);
  }

  /** queue.writeBuffer, or the upload ring for large writes (queue-ordered either way). */
  writeBuffer(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    if (data.byteLength >= this.uploadRingBytes && data.byteLength % 4 === 0) this.uploads.write(buffer, offset, data);
    else this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Encodes the dispatches in one compute pass (with a profiler: a timed pass each). */
  encode(enc: GPUCommandEncoder, list: readonly Dispatch[]): void {
    if (list.length === 0) return;
    if (this.profiler) return this.profiler.encode(enc, list);
    const pass = enc.beginComputePass();
    encodeDispatches(pass, list);
    pass.end();
  }

  /** Encodes the zeroing of bytes [offset, offset + size) of `buffer` (default: all of it). */
  clear(
    enc: GPUCommandEncoder,
    buffer: GPUBuffer,
    offset = 0,
    size = buffer.size - offset,
    label = buffer.label,
  ): void {
    if (this.profiler) this.profiler.clear(enc, buffer, offset, size, label || 'buffer');
    else enc.clearBuffer(buffer, offset, size);
  }

  /** Encodes the dispatches in one compute pass and submits them. */
  run(list: readonly Dispatch[]): void {
    if (list.length === 0) return;
    const enc = this.device.createCommandEncoder();
    this.encode(enc, list);
    this.device.queue.submit([enc.finish()]);
  }

  /** The tensor's bytes. The copy is queued (and the map requested) before this returns its
   *  promise, so GPU work submitted afterwards runs while the read is in flight. */
  readRaw(t: GpuTensor): Promise<ArrayBuffer> {
    return this.readMany([t]).then((r) => r[0]);
  }

  /** Several tensors with one copy submit and one map: one wait instead of one per tensor. */
  async readMany(ts: readonly GpuTensor[]): Promise<ArrayBuffer[]> {
    const at: number[] = [];
    let bytes = 0;
    for (const t of ts) {
      at.push(bytes);
      bytes += Math.ceil((t.length * 4) / 16) * 16;
    }
    const staging = this.staging.acquire(Math.max(16, bytes));
    const enc = this.device.createCommandEncoder();
    ts.forEach((t, i) => {
      if (t.length > 0) enc.copyBufferToBuffer(t.buffer, t.offset, staging, at[i], t.length * 4);
    });
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, Math.max(16, bytes));
    } catch (e) {
      staging.destroy();
      throw e;
    }
    const out = ts.map((t, i) =>
      staging.getMappedRange(at[i], Math.ceil((t.length * 4) / 16) * 16).slice(0, t.length * 4),
    );
    staging.unmap();
    this.staging.release(staging);
    return out;
  }

  /** Reads `t` into `dst` (no new host memory: on a VM, fresh pages for every large read are
   *  what a readback costs most); copy and map are queued before this returns, as in readMany. */
  async readInto(t: GpuTensor, dst: Float32Array | Int32Array): Promise<void> {
    if (dst.length !== t.length)
      throw new Error(`readInto: ${dst.length} elements for ${t.name ?? 'tensor'} of ${t.length}`);
    const bytes = Math.max(16, Math.ceil((t.length * 4) / 16) * 16);
    const staging = this.staging.acquire(bytes);
    const enc = this.device.createCommandEncoder();
    if (t.length > 0) enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, t.length * 4);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      throw e;
    }
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(
      new Uint8Array(staging.getMappedRange(0, bytes), 0, dst.byteLength),
    );
    staging.unmap();
    this.staging.release(staging);
  }

  async read(t: GpuTensor): Promise<Float32Array> {
    return new Float32Array(await this.readRaw(t));
  }

  async readInt(t: GpuTensor): Promise<Int32Array> {
    return new Int32Array(await this.readRaw(t));
  }

  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
  }
}

/** Packs mixed u32/i32/f32 scalars into a uniform block (each 4 bytes, std140-free: use only scalars). */
export function uniforms(fields: ReadonlyArray<['u32' | 'i32' | 'f32', number]>): { uniform: ArrayBuffer } {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(buf);
  fields.forEach(([kind, v], i) => {
    if (kind === 'f32') view.setFloat32(i * 4, v, true);
    else if (kind === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return { uniform: buf };
}
