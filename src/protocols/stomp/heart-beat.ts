import type { Clock, TimerHandle } from '../../core/ports.js';

const HEART_BEAT_HEADER = /^([0-9]+),([0-9]+)$/;

export interface HeartBeatRequest {
  /** cx: the smallest interval at which the client can send (0: it cannot). */
  readonly clientSendsMs: number;
  /** cy: the interval at which the client wants to receive (0: it does not). */
  readonly clientWantsMs: number;
}

/** The CONNECT `heart-beat` header; undefined when malformed. Absent means `0,0` ([STOMP 1.2] "Heart-beating"). */
export function parseHeartBeat(value: string | undefined): HeartBeatRequest | undefined {
  if (value === undefined) return { clientSendsMs: 0, clientWantsMs: 0 };
  const match = HEART_BEAT_HEADER.exec(value);
  if (!match) return undefined;
  const clientSendsMs = Number(match[1]);
  const clientWantsMs = Number(match[2]);
  if (!Number.isSafeInteger(clientSendsMs) || !Number.isSafeInteger(clientWantsMs)) return undefined;
  return { clientSendsMs, clientWantsMs };
}

export interface HeartBeatAgreement {
  /** How often the server sends something (a frame or an EOL); 0: never. */
  readonly serverSendsMs: number;
  /** How often the client must send something; 0: no check. */
  readonly clientSendsMs: number;
  /** The CONNECTED `heart-beat` header: "sx,sy". */
  readonly header: string;
}

/**
 * The server offers what the client asks (as RabbitMQ does), raised to a floor so that a client cannot
 * make the server wake every millisecond. With sx = max(cy, floor) and sy = max(cx, floor), each side's
 * interval is max(own, other's) = the same numbers, so both sides agree on them.
 */
export function negotiateHeartBeat(request: HeartBeatRequest, minimumMs: number): HeartBeatAgreement {
  const serverSendsMs = request.clientWantsMs === 0 ? 0 : Math.max(request.clientWantsMs, minimumMs);
  const clientSendsMs = request.clientSendsMs === 0 ? 0 : Math.max(request.clientSendsMs, minimumMs);
  return { serverSendsMs, clientSendsMs, header: `${serverSendsMs},${clientSendsMs}` };
}

export interface HeartBeatHost {
  readonly clock: Clock;
  /** When the session last wrote / read anything. */
  lastWriteAt(): number;
  lastReadAt(): number;
  sendHeartBeat(): void;
  /** The peer was silent for twice its interval. */
  peerSilent(): void;
}

/**
 * Keeps both directions alive: an EOL goes out when the session wrote nothing for its interval, and the
 * peer counts as gone after twice its interval without a byte (the spec leaves the tolerance to the
 * implementation; 2x is RabbitMQ's and common clients' choice).
 */
export class HeartBeatTimers {
  private sendTimer: TimerHandle | undefined;
  private receiveTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly host: HeartBeatHost,
    private readonly agreement: HeartBeatAgreement,
  ) {
    if (agreement.serverSendsMs > 0) this.armSend(agreement.serverSendsMs);
    if (agreement.clientSendsMs > 0) this.armReceive(agreement.clientSendsMs * 2);
  }

  private armSend(delayMs: number): void {
    this.sendTimer = this.host.clock.setTimer(delayMs, () => {
      if (this.stopped) return;
      const interval = this.agreement.serverSendsMs;
      const due = this.host.lastWriteAt() + interval;
      const now = this.host.clock.now();
      if (now >= due) {
        this.host.sendHeartBeat();
        this.armSend(interval);
      } else {
        this.armSend(due - now);
      }
    });
  }

  private armReceive(delayMs: number): void {
    this.receiveTimer = this.host.clock.setTimer(delayMs, () => {
      if (this.stopped) return;
      const due = this.host.lastReadAt() + this.agreement.clientSendsMs * 2;
      const now = this.host.clock.now();
      if (now >= due) this.host.peerSilent();
      else this.armReceive(due - now);
    });
  }

  stop(): void {
    this.stopped = true;
    this.sendTimer?.cancel();
    this.receiveTimer?.cancel();
  }
}
