// Minimal contributor page for coordinator tests:
// ?run=ID&token=JOIN_TOKEN joins the run on this page's origin and reports ready at once. It holds
// no model: asked to halt for a membership change, it reports that it has nothing in memory.
import type { Assignment, ControlMessage } from '../../src/protocol';
import type { RunConnection } from '../../src/tab/join';
import { mountJoinPanel, type JoinPanel } from '../../src/tab/join-panel';

declare global {
  interface Window {
    tabtronJoin: {
      panel: JoinPanel | null;
      assignment: Assignment | null;
      controls: ControlMessage['type'][];
      connection: RunConnection | null;
    };
  }
}

const q = new URLSearchParams(location.search);
window.tabtronJoin = { panel: null, assignment: null, controls: [], connection: null };
window.tabtronJoin.panel = await mountJoinPanel(document.getElementById('panel')!, {
  coordinatorUrl: location.origin,
  runId: q.get('run') ?? '',
  joinToken: q.get('token') ?? '',
  autoReady: true,
  onAssignment: (a, conn) => {
    window.tabtronJoin.assignment = a;
    window.tabtronJoin.connection = conn;
  },
  onControl: (m, conn) => {
    window.tabtronJoin.controls.push(m.type);
    if (m.type === 'halt')
      conn?.send({
        type: 'halted',
        generation: m.generation,
        reason: 'asked',
        report: { step: null, reachable: [], snapshots: [] },
      });
  },
});
window.tabtronJoin.connection ??= window.tabtronJoin.panel.connection;
