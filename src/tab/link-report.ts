// What a rank's tab tells the coordinator about its traffic: after every step the `links`
// message (bytes sent to each peer since the last report, and the bytes that arrived from each
// peer with the time they took: the admin page shows bytes per step and each link's throughput
// as its receiver measured it), after every local-SGD sync a `round` message. The tab reads its transport's meter (src/comm/link-meter.ts):
//   connection.send(linksMessage(transport.meter.take()))   // on each 'step' event
//   connection.send(roundMessage(report))                   // on each local-SGD report
import type { LinkStats } from '../comm/link-meter';
import type { TabMessage } from '../protocol';
import type { OuterRoundReport } from '../train/local-sgd/local-sgd';

type LinksMessage = Extract<TabMessage, { type: 'links' }>;
type RoundMessage = Extract<TabMessage, { type: 'round' }>;

/** Peers this rank exchanged messages with since the last take; null when there were none. */
export function linksMessage(stats: readonly LinkStats[]): LinksMessage | null {
  const links = stats
    .filter((s) => s.bytesSent > 0 || s.bytesReceived > 0)
    .slice(0, 256)
    .map((s) => ({
      peerRank: s.peer,
      bytes: s.bytesSent,
      ms: Math.max(0, s.sendMs),
      bytesIn: s.timedBytesReceived,
      msIn: Math.max(0, s.receiveMs),
    }));
  return links.length ? { type: 'links', links } : null;
}

export function roundMessage(r: OuterRoundReport): RoundMessage {
  return {
    type: 'round',
    step: r.appliedAt,
    fragment: r.fragment,
    fragments: r.fragments,
    bytes: r.bytesSent,
    deltaNorm: r.deltaNorm,
    updateNorm: r.updateNorm,
    ms: Math.max(0, r.ms),
  };
}
