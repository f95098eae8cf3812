// Joining a run from a tab: POST /api/runs/:id/join, then the WebSocket control channel.
// UI-agnostic: the page passes callbacks; credentials are kept (sessionStorage by default)
// so a reloaded tab takes its rank back within the coordinator's grace period.

import {
  ApiErrorSchema,
  ControlMessageSchema,
  JoinResponseSchema,
  PROTOCOL_VERSION,
  assertNever,
  parseFrame,
  type Assignment,
  type ControlMessage,
  type DeviceInfo,
  type JoinRequest,
  type JoinResponse,
  type TabMessage,
} from '../protocol';
import { describeDevice } from './join-device';

/** Messages other than welcome/assign, for the page or the rank worker to act on. */
export type Control = Exclude<ControlMessage, { type: 'welcome' | 'assign' }>;

export interface JoinOptions {
  coordinatorUrl: string;
  runId: string;
  joinToken: string;
  onAssignment: (a: Assignment) => void;
  onControl: (msg: Control) => void;
  /** The socket closed for good (stopped run, rejected, gave up reconnecting). */
  onClosed?: (reason: string) => void;
  device?: DeviceInfo;
  fetch?: typeof fetch;
  WebSocket?: new (url: string) => WebSocket;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  reconnect?: { attempts: number; delayMs: number };
  /** the membership generation this tab trains (0: none), sent in every hello */
  generation?: () => number;
}

/** Messages kept while the control socket is down (e.g. the coordinator restarts), sent on reconnect. */
const MAX_QUEUED = 1000;
/** progress messages sent again after a reconnect */
const RESENT_ON_RECONNECT = 16;

export interface RunConnection {
  readonly join: JoinResponse;
  readonly assignment: Assignment | null;
  send(msg: TabMessage): void;
  ready(): void;
  leave(reason?: string): void;
}

export class JoinError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JoinError';
  }
}

const credentialKey = (runId: string) => `tabtron:join:${runId}`;

export async function requestJoin(
  o: Pick<JoinOptions, 'coordinatorUrl' | 'runId' | 'joinToken' | 'device' | 'fetch' | 'storage'>,
): Promise<JoinResponse> {
  const doFetch = o.fetch ?? fetch;
  const saved = o.storage?.getItem(credentialKey(o.runId));
  const body: JoinRequest = { joinToken: o.joinToken, device: o.device ?? (await describeDevice()) };
  if (saved) body.resume = JSON.parse(saved);
  const url = new URL(`/api/runs/${encodeURIComponent(o.runId)}/join`, o.coordinatorUrl);
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new JoinError(
      0,
      'unreachable',
      `cannot reach the coordinator at ${o.coordinatorUrl}: ${(e as Error).message}`,
    );
  }
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = ApiErrorSchema.safeParse(data);
    throw err.success
      ? new JoinError(res.status, err.data.error.code, err.data.error.message)
      : new JoinError(res.status, 'http_error', `join failed with HTTP ${res.status}`);
  }
  const join = JoinResponseSchema.parse(data);
  o.storage?.setItem(
    credentialKey(o.runId),
    JSON.stringify({ participantId: join.participantId, secret: join.secret }),
  );
  return join;
}

/** Joins and resolves once the coordinator welcomed the socket. */
export async function joinRun(o: JoinOptions): Promise<RunConnection> {
  const storage = o.storage === undefined ? (globalThis.sessionStorage ?? null) : o.storage;
  const join = await requestJoin({ ...o, storage });
  const WS = o.WebSocket ?? globalThis.WebSocket;
  // long enough for a coordinator to restart: training goes on meanwhile over WebRTC
  const retry = o.reconnect ?? { attempts: 60, delayMs: 1000 };
  const wsUrl = new URL(join.wsPath, o.coordinatorUrl);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  let socket: WebSocket | null = null;
  let assignment: Assignment | null = null;
  let generation = 0;
  let finished = false;
  let failures = 0;
  const finish = (reason: string) => {
    if (finished) return;
    finished = true;
    o.onClosed?.(reason);
  };
  const queued: TabMessage[] = [];
  // progress sent just before a connection drops may never have been read (a coordinator killed
  // mid-stream): the last few are sent again after a reconnect (the coordinator takes repeats)
  const recent: TabMessage[] = [];
  let welcomedOnce = false;
  let welcomes = 0;
  const send = (msg: TabMessage) => {
    if (msg.type === 'progress') {
      recent.push(msg);
      if (recent.length > RESENT_ON_RECONNECT) recent.shift();
    }
    if (socket?.readyState === 1 && (welcomedOnce || msg.type === 'hello')) socket.send(JSON.stringify(msg));
    else if (!finished && queued.length < MAX_QUEUED && !queued.includes(msg)) queued.push(msg);
  };

  const welcomed = new Promise<void>((resolve, reject) => {
    const open = () => {
      const ws = new WS(wsUrl.href);
      socket = ws;
      ws.addEventListener('open', () =>
        send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          participantId: join.participantId,
          secret: join.secret,
          generation: o.generation?.() ?? 0,
        }),
      );
      ws.addEventListener('message', (ev: MessageEvent) => {
        const parsed = parseFrame(ControlMessageSchema, String(ev.data));
        if (!parsed.ok)
          return send({ type: 'log', level: 'warn', message: `bad control message: ${parsed.error}`.slice(0, 2000) });
        const msg = parsed.value;
        switch (msg.type) {
          case 'welcome':
            failures = 0;
            welcomedOnce = true;
            if (welcomes++ > 0) queued.unshift(...recent.filter((m) => !queued.includes(m)));
            for (const m of queued.splice(0)) socket?.send(JSON.stringify(m));
            resolve();
            return;
          case 'assign':
            assignment = msg.assignment;
            o.onAssignment(msg.assignment);
            return;
          case 'error':
            if (msg.fatal) {
              finished = true; // no reconnect after a refusal
              storage?.removeItem(credentialKey(o.runId));
              reject(new JoinError(0, msg.code, msg.message));
              o.onClosed?.(msg.message);
            }
            o.onControl(msg);
            return;
          case 'stop':
            finished = true;
            storage?.removeItem(credentialKey(o.runId));
            o.onControl(msg);
            o.onClosed?.(msg.reason);
            return;
          case 'generation':
            assignment = msg.assignment;
            generation = msg.plan.generation;
            o.onControl(msg);
            return;
          case 'halt':
          case 'standby':
          case 'peers':
          case 'start':
          case 'pause':
          case 'resume':
          case 'pong':
            o.onControl(msg);
            return;
          default:
            assertNever(msg, 'control message');
        }
      });
      ws.addEventListener('close', (ev: CloseEvent) => {
        if (socket !== ws || finished) return;
        if (ev.code === 1000 || ++failures > retry.attempts) {
          reject(new JoinError(0, 'closed', `control channel closed (${ev.code} ${ev.reason})`));
          return finish(ev.reason || `connection closed (${ev.code})`);
        }
        welcomedOnce = false;
        setTimeout(open, retry.delayMs * Math.min(failures, 3));
      });
    };
    open();
  });
  await welcomed;

  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () =>
      send({ type: 'visibility', hidden: document.visibilityState === 'hidden' }),
    );
  }

  return {
    join,
    get assignment() {
      return assignment;
    },
    send,
    ready() {
      if (!assignment) throw new Error('ready() before an assignment');
      send({ type: 'ready', rank: assignment.rank, generation: generation || undefined });
    },
    leave(reason) {
      send({ type: 'leave', reason });
      finished = true;
      storage?.removeItem(credentialKey(o.runId));
      (socket as WebSocket | null)?.close(1000, 'left');
    },
  };
}
