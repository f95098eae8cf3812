// Point-to-point tensors between ranks that share one GPU device (Dawn + SwiftShader here): what
// the receiver gets is what the sender's tensor held when it sent, whether the recv came first
// (a direct copy) or the send did (a staging buffer, reused); work the sender queues after the
// send cannot change it; mismatched lengths, an unknown peer, a silent sender and a failed one
// are errors that name the peer and tag.
import { describe, expect, it } from 'vitest';
import { deviceWorld } from './device-collectives';
import { DeviceMailbox } from './device-p2p';
import { sharedTestContext } from './test-context';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.21 + seed) * 5);

describe('device-local point to point', { timeout: 120_000 }, () => {
  it('send before recv (staged) and recv before send (direct) deliver the tensor as it was sent', async () => {
    const ctx = await sharedTestContext();
    const hub = deviceWorld(ctx, 2);
    const [a, b] = [0, 1].map((r) => hub.member(r));
    const n = 1000;
    const src = ctx.tensorFrom(values(n, 1));
    const into = ctx.tensor([n]);

    await a.send(1, 'act:0', src); // staged
    ctx.write(src, values(n, 2)); // the sender's next work overwrites its tensor
    await b.recv(0, 'act:0', into);
    expect(await ctx.read(into)).toEqual(values(n, 1));

    const pending = b.recv(0, 'act:1', into); // direct: the recv waits first
    await a.send(1, 'act:1', src);
    await pending;
    ctx.write(src, values(n, 3));
    expect(await ctx.read(into)).toEqual(values(n, 2));

    // a view into a shared buffer, at an element offset, both ways
    const big = ctx.tensor([3 * n]);
    const view = { ...big, offset: n * 4 + 4, length: n, shape: [n] };
    await b.send(0, 'grad:0', into);
    await a.recv(1, 'grad:0', view);
    expect(await ctx.read(view)).toEqual(values(n, 2));
    expect(hub.mailbox.delivered).toBe(3);
  });

  it('a staging buffer is reused once its message is received', async () => {
    const ctx = await sharedTestContext();
    const box = new DeviceMailbox(ctx);
    const t = ctx.tensorFrom(values(64, 4));
    const into = ctx.tensor([64]);
    const before = ctx.bytesAllocated;
    for (let i = 0; i < 3; i++) {
      await box.send(0, 1, `m${i}`, t);
      await box.recv(0, 1, `m${i}`, into);
    }
    expect(ctx.bytesAllocated - before).toBe(64 * 4);
    expect(await ctx.read(into)).toEqual(values(64, 4));
  });

  it('errors name the peer and the tag', async () => {
    const ctx = await sharedTestContext();
    const hub = deviceWorld(ctx, 3);
    const [a, b, c] = [0, 1, 2].map((r) => hub.member(r));
    await a.send(1, 'x', ctx.tensor([8]));
    await expect(b.recv(0, 'x', ctx.tensor([4]))).rejects.toThrow(/0>1:x: 8 elements sent into/);
    await expect(a.send(5, 'y', ctx.tensor([4]))).rejects.toThrow(/cannot send to rank 5: not on this device/);

    const waiting = c.recv(0, 'z', ctx.tensor([4]));
    a.fail(new Error('tab closed'));
    await expect(waiting).rejects.toThrow(/0>2:z: rank 0 failed: tab closed/);
    await expect(b.recv(0, 'later', ctx.tensor([4]))).rejects.toThrow(/rank 0 failed: tab closed/);

    const quiet = new DeviceMailbox(ctx, 50);
    await expect(quiet.recv(3, 4, 'never', ctx.tensor([4]))).rejects.toThrow(
      /3>4:never: nothing from rank 3 for 50 ms/,
    );
  });
});
