// One end of the self-check's transport probe (run inside a shaped node by selfcheck.ts):
// rank 0 sends `count` messages of `bytes` to rank 1 over TcpTransport; rank 1 prints what its
// LinkMeter measured for the link, as one JSON line.
//   node --import tsx tools/netns/meter-probe.ts <rank> <host0> <host1> <port> <bytes> <count>
import { receiveRate } from '../../src/comm/link-meter';
import { TcpTransport } from '../../src/comm/tcp-transport';

const [rank, host0, host1, port, bytes, count] = process.argv.slice(2);
const t = await TcpTransport.connect({
  rank: Number(rank),
  worldSize: 2,
  hosts: [host0, host1],
  ports: [Number(port), Number(port)],
  connectTimeoutMs: 20_000,
});
if (rank === '0') {
  for (let i = 0; i < Number(count); i++) await t.send(1, 'probe', new Uint8Array(Number(bytes)));
  await t.recv(1, 'done');
} else {
  for (let i = 0; i < Number(count); i++) await t.recv(0, 'probe');
  const [s] = t.meter.totals();
  process.stdout.write(`${JSON.stringify({ ...s, rate: receiveRate(s) })}\n`);
  await t.send(0, 'done', new Uint8Array(0));
}
t.close();
