// `n` TCP ports on 127.0.0.1 that were free a moment ago (the OS picks them; Node only).
import { createServer } from 'node:net';

export function freePorts(n: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((res, rej) => {
          const s = createServer()
            .once('error', rej)
            .listen(0, '127.0.0.1', () => {
              const p = (s.address() as { port: number }).port;
              s.close(() => res(p));
            });
        }),
    ),
  );
}
