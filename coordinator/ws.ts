// The per-tab WebSocket control channel: bounded frames, a hello within a deadline,
// every frame validated, a per-socket message budget, and ping/pong liveness.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_TAB_MESSAGE_BYTES, TabMessageSchema, parseFrame, type ControlMessage } from '../src/protocol';
import { HttpError } from './errors';
import type { RunManager, TabLink } from './lifecycle';
import { handleTabMessage } from './tab-messages';
import type { Logger, Telemetry } from './telemetry';

export interface ControlChannelOptions {
  helloTimeoutMs: number;
  /** Sustained messages per second per socket, and the burst allowed above it. */
  messagesPerSecond: number;
  burst: number;
  /** Invalid frames tolerated before the socket is closed. */
  maxInvalid: number;
  pingIntervalMs: number;
  /** a socket that answers no ping and sends nothing for this long (at least; a run's grace
   *  grows with its measured step time) is cut. Pongs come from the browser's network stack,
   *  not the page's busy thread, so a slow tab keeps answering. */
  silenceMs: number;
}

export const DEFAULT_CHANNEL: ControlChannelOptions = {
  helloTimeoutMs: 10_000,
  messagesPerSecond: 50,
  burst: 200,
  maxInvalid: 20,
  pingIntervalMs: 10_000,
  silenceMs: 60_000,
};

/** Close code a socket gets when the coordinator cut it for silence (no pong, no message). */
export const SILENT_CLOSE = 4010;

// Close codes (4000-4999 are the application's).
export const CLOSE = {
  replaced: 4000,
  noHello: 4001,
  protocol: 4002,
  rejected: 4003,
  rateLimited: 4008,
  invalid: 1008,
} as const;

export function createControlChannel(
  runs: RunManager,
  t: Telemetry,
  log: Logger,
  o: ControlChannelOptions = DEFAULT_CHANNEL,
) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_TAB_MESSAGE_BYTES });
  const heard = new WeakMap<WebSocket, number>();
  const silentFor = new WeakMap<WebSocket, () => number>();

  const pinger = setInterval(() => {
    const now = Date.now();
    for (const ws of wss.clients) {
      const grace = silentFor.get(ws)?.() ?? o.silenceMs;
      if (now - (heard.get(ws) ?? now) > grace) {
        t.wsRejected.inc({ reason: 'silent' });
        ws.close(SILENT_CLOSE, `silent for ${Math.round(grace / 1000)} s`);
        setTimeout(() => ws.terminate(), 1000).unref();
        continue;
      }
      ws.ping();
    }
  }, o.pingIntervalMs).unref();

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    heard.set(ws, Date.now());
    ws.on('pong', () => heard.set(ws, Date.now()));
    const send = (msg: ControlMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const link: TabLink = { send, close: (code, reason) => ws.close(code, reason.slice(0, 120)) };
    let participantId: string | null = null;
    let invalid = 0;
    let tokens = o.burst,
      refilledAt = Date.now();
    const reject = (reason: string, code: number, message: string) => {
      t.wsRejected.inc({ reason });
      send({ type: 'error', code: reason, message, fatal: true });
      ws.close(code, message.slice(0, 120));
    };
    const helloTimer = setTimeout(
      () => reject('no_hello', CLOSE.noHello, `no hello within ${o.helloTimeoutMs} ms`),
      o.helloTimeoutMs,
    );

    ws.on('message', (data, isBinary) => {
      heard.set(ws, Date.now());
      const now = Date.now();
      tokens = Math.min(o.burst, tokens + ((now - refilledAt) / 1000) * o.messagesPerSecond);
      refilledAt = now;
      if (--tokens < 0) return reject('rate_limited', CLOSE.rateLimited, `more than ${o.messagesPerSecond} messages/s`);
      if (isBinary) return reject('binary', CLOSE.invalid, 'control frames must be JSON text');
      const parsed = parseFrame(TabMessageSchema, data.toString());
      if (!parsed.ok) {
        t.wsRejected.inc({ reason: 'invalid' });
        if (++invalid > o.maxInvalid)
          return reject('too_many_invalid', CLOSE.invalid, `more than ${o.maxInvalid} invalid messages`);
        return send({ type: 'error', code: 'invalid_message', message: parsed.error, fatal: false });
      }
      const msg = parsed.value;
      t.wsMessages.inc({ type: msg.type });
      if (participantId === null) {
        if (msg.type !== 'hello')
          return reject('hello_expected', CLOSE.protocol, `first message must be 'hello', got '${msg.type}'`);
        clearTimeout(helloTimer);
        try {
          participantId = runs.attach(msg.participantId, msg.secret, link, msg.generation ?? 0).id;
          const id = participantId;
          silentFor.set(ws, () => Math.max(o.silenceMs, runs.silenceGraceMs(id)));
          log.info({ participant: participantId, ip: req.socket.remoteAddress }, 'tab attached');
        } catch (e) {
          const err = e as Error;
          return reject(e instanceof HttpError ? e.code : 'error', CLOSE.rejected, err.message);
        }
        return;
      }
      if (msg.type === 'hello')
        return send({ type: 'error', code: 'duplicate_hello', message: 'already attached', fatal: false });
      try {
        handleTabMessage(runs, participantId, msg);
      } catch (e) {
        log.error({ err: e, participant: participantId, type: msg.type }, 'tab message failed');
        send({ type: 'error', code: 'internal', message: `could not handle '${msg.type}'`, fatal: false });
      }
    });

    ws.on('close', (code) => {
      clearTimeout(helloTimer);
      if (participantId) runs.detach(participantId, link, code);
    });
    ws.on('error', (err) => {
      // Oversized frames end here (ws closes with 1009); count them.
      t.wsRejected.inc({
        reason: (err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too_large' : 'socket_error',
      });
      log.info({ participant: participantId, err: err.message }, 'tab socket error');
    });
  });

  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
