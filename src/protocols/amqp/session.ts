/**
 * One AMQP 0-9-1 connection: the handshake (protocol header, start / start-ok with PLAIN or AMQPLAIN,
 * tune / tune-ok, open), heartbeats both ways, connection.close in both directions, and the channels.
 * Frames go out in batches: everything written in one event-loop turn leaves in one socket write.
 */
import type { Socket } from 'node:net';
import type { Broker } from '../../core/broker.js';
import type { Connection } from '../../core/connection.js';
import type { Authenticator, Logger, Principal } from '../../core/ports.js';
import type { FlowGate } from '../../core/flow/queue-flow.js';
import {
  decodeFieldTable,
  decodeMethod,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
  FrameReader,
  FrameWriter,
  type AmqpMethod,
  type FieldTable,
  type FrameReaderEvent,
} from './codec/index.js';
import { ChannelSession, type ChannelSessionHost } from './channel-session.js';
import type { DirectReplyRegistry } from './direct-reply-to.js';
import { AmqpReplyError, replyOf, reply, type AmqpReply } from './errors.js';

export interface AmqpSessionSettings {
  readonly serverVersion: string | Promise<string>;
  readonly channelMax: number;
  readonly frameMax: number;
  /** Heartbeat interval proposed in connection.tune, in seconds. */
  readonly heartbeat: number;
  readonly maxMessageSize: number;
  /** A connection that has not finished the handshake within this is closed. */
  readonly handshakeTimeoutMs: number;
  /** After we send connection.close, how long the peer has to answer before the socket is destroyed. */
  readonly closeTimeoutMs: number;
}

export interface AmqpSessionContext {
  readonly broker: Broker;
  /** Direct reply-to addresses of every session of the adapter. */
  readonly replies: DirectReplyRegistry;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
}

type SessionState = 'header' | 'start-ok' | 'authenticating' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed';

const CAPABILITIES: FieldTable = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  authentication_failure_close: true,
  per_consumer_qos: true,
  direct_reply_to: true,
};
const MECHANISMS = new TextEncoder().encode('PLAIN AMQPLAIN');
const LOCALES = new TextEncoder().encode('en_US');
const textDecoder = new TextDecoder();

export class AmqpSession implements ChannelSessionHost {
  private state: SessionState = 'header';
  private readonly reader = new FrameReader();
  readonly writer = new FrameWriter({ frameMax: FRAME_MIN_SIZE });
  private readonly channels = new Map<number, ChannelSession>();
  private readonly confirmChannels = new Set<ChannelSession>();
  private core: Connection | undefined;
  private principal: Principal | undefined;
  /** The mechanism the client logged in with, reused to check a secret sent by connection.update-secret. */
  private mechanism: 'PLAIN' | 'AMQPLAIN' = 'PLAIN';
  /** connection.update-secret is being checked: later frames wait, as RabbitMQ handles it in line. */
  private secretPending = false;
  private channelMax = 0;
  private flushScheduled = false;
  private writeBlocked = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private receivedSinceTick = true;
  private sentSinceTick = false;
  private missedTicks = 0;
  private closeWaiters: (() => void)[] = [];
  /** The client advertised the `connection.blocked` capability: tell it when publishing is blocked. */
  private wantsBlockedNotices = false;
  /** A publish arrived during a resource alarm: frames are not read until the alarm clears. */
  private readBlocked = false;
  private stopWatchingAlarms: (() => void) | undefined;
  /** A publish went to a congested queue (core flow control): frames are not read until it drains. */
  private stopWaitingForFlow: (() => void) | undefined;
  readonly broker: Broker;
  readonly replies: DirectReplyRegistry;
  readonly maxMessageSize: number;
  private readonly remoteAddress: string;

  constructor(
    private readonly socket: Socket,
    private readonly context: AmqpSessionContext,
    private readonly settings: AmqpSessionSettings,
  ) {
    this.broker = context.broker;
    this.replies = context.replies;
    this.maxMessageSize = settings.maxMessageSize;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.handshakeTimer = setTimeout(() => this.destroy(), settings.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  get connection(): Connection {
    return this.core!;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.receivedSinceTick = true;
    this.reader.push(chunk);
    this.drainReader();
  }

  private drainReader(): void {
    try {
      while (
        this.state !== 'authenticating' &&
        this.state !== 'closed' &&
        !this.readBlocked &&
        this.stopWaitingForFlow === undefined &&
        !this.secretPending
      ) {
        const event = this.reader.next();
        if (event === undefined) break;
        this.handleEvent(event);
      }
    } catch (error) {
      const failure = replyOf(error);
      const info = error instanceof AmqpReplyError ? undefined : (error as { classId?: number; methodId?: number });
      this.connectionError(failure.hard ? failure : { ...failure, hard: true }, info?.classId ?? 0, info?.methodId ?? 0);
      if (failure.code === 541) this.logError(error, 'AMQP frame handling failed');
    }
    this.flush();
  }

  private handleEvent(event: FrameReaderEvent): void {
    if (event.kind === 'protocol-mismatch') {
      // §4.2.2: answer with the header we do speak, then close.
      this.writer.protocolHeader();
      this.flush();
      this.socket.end();
      this.cleanup();
      return;
    }
    if (event.kind === 'protocol-header') {
      void this.sendStart();
      return;
    }
    if (event.type === FRAME_HEARTBEAT) return;
    if (this.state === 'closing') {
      this.frameWhileClosing(event.channel, event.type, event.payload);
      return;
    }
    if (event.channel === 0) {
      if (event.type !== FRAME_METHOD) throw new AmqpReplyError('UNEXPECTED_FRAME', `content frame of type ${event.type} on channel 0`);
      this.connectionMethod(decodeMethod(event.payload));
      return;
    }
    if (this.state !== 'running') throw new AmqpReplyError('COMMAND_INVALID', `frame on channel ${event.channel} before connection.open`);
    const channel = this.channels.get(event.channel);
    if (channel !== undefined) {
      channel.frame(event.type, event.payload);
      return;
    }
    if (event.channel > this.channelMax) {
      throw new AmqpReplyError('CHANNEL_ERROR', `channel ${event.channel} is over the negotiated channel-max ${this.channelMax}`);
    }
    if (event.type !== FRAME_METHOD) throw new AmqpReplyError('UNEXPECTED_FRAME', `content frame on channel ${event.channel}, which is not open`);
    const method = decodeMethod(event.payload);
    if (method.name !== 'channel.open') throw new AmqpReplyError('CHANNEL_ERROR', `expected 'channel.open' on channel ${event.channel}, got '${method.name}'`);
    const opened = new ChannelSession(this, event.channel);
    this.channels.set(event.channel, opened);
    if (this.writeBlocked) opened.socketWritable(false);
  }

  private frameWhileClosing(channel: number, type: number, payload: Uint8Array): void {
    if (channel !== 0 || type !== FRAME_METHOD) return;
    const method = decodeMethod(payload);
    if (method.name === 'connection.close-ok') {
      this.finish();
    } else if (method.name === 'connection.close') {
      this.writer.method(0, { name: 'connection.close-ok' });
      this.flush();
      this.finish();
    }
  }

  private async sendStart(): Promise<void> {
    this.state = 'start-ok';
    const version = await this.settings.serverVersion;
    if (this.state !== 'start-ok') return;
    this.writer.method(0, {
      name: 'connection.start',
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: {
        product: 'Courier',
        version,
        platform: `Node.js ${process.version}`,
        information: 'Courier: a durable multi-protocol message broker',
        capabilities: CAPABILITIES,
      },
      mechanisms: MECHANISMS,
      locales: LOCALES,
    });
    this.flush();
  }

  private connectionMethod(method: AmqpMethod): void {
    switch (method.name) {
      case 'connection.start-ok':
        this.expectState('start-ok', method.name);
        this.wantsBlockedNotices = capabilityOf(method.clientProperties, 'connection.blocked');
        void this.authenticate(method.mechanism, method.response);
        return;
      case 'connection.tune-ok':
        this.expectState('tune-ok', method.name);
        this.tuned(method.channelMax, method.frameMax, method.heartbeat);
        return;
      case 'connection.open':
        this.expectState('open', method.name);
        if (method.virtualHost !== '/') {
          this.connectionError(reply('NOT_ALLOWED', `vhost ${method.virtualHost} not found`), 10, 40);
          return;
        }
        this.core = this.broker.connect(this.principal!, { protocol: 'amqp', remoteAddress: this.remoteAddress });
        // Management's close: connection.close 320 CONNECTION_FORCED, as RabbitMQ's management does.
        this.core.onCloseRequest((reason) => {
          this.connectionError(reply('CONNECTION_FORCED', reason), 0, 0);
          this.flush();
        });
        this.state = 'running';
        clearTimeout(this.handshakeTimer);
        this.writer.method(0, { name: 'connection.open-ok', knownHosts: '' });
        this.stopWatchingAlarms = this.broker.alarms.subscribe((blocked) => this.alarmChanged(blocked));
        if (this.broker.alarms.blocked) this.alarmChanged(true);
        return;
      case 'connection.close':
        this.writer.method(0, { name: 'connection.close-ok' });
        this.flush();
        this.finish();
        return;
      case 'connection.close-ok':
        this.finish();
        return;
      case 'connection.blocked':
      case 'connection.unblocked':
        return;
      case 'connection.update-secret':
        if (this.state !== 'running') throw new AmqpReplyError('COMMAND_INVALID', `unexpected '${method.name}' during the handshake`);
        void this.updateSecret(method.newSecret, method.reason);
        return;
      default:
        throw new AmqpReplyError('COMMAND_INVALID', `unexpected method '${method.name}' on channel 0`);
    }
  }

  private expectState(state: SessionState, methodName: string): void {
    if (this.state !== state) throw new AmqpReplyError('COMMAND_INVALID', `unexpected '${methodName}' during the handshake`);
  }

  private async authenticate(mechanism: string, response: Uint8Array): Promise<void> {
    this.state = 'authenticating';
    const credentials = parseCredentials(mechanism, response);
    try {
      if (credentials === undefined) throw new AmqpReplyError('ACCESS_REFUSED', `unsupported authentication mechanism '${mechanism}'`);
      this.mechanism = mechanism as 'PLAIN' | 'AMQPLAIN';
      this.principal = await this.context.authenticator.authenticate({
        mechanism: this.mechanism,
        username: credentials.username,
        password: credentials.password,
        remoteAddress: this.remoteAddress,
        protocol: 'amqp',
      });
    } catch (error) {
      if (this.state !== 'authenticating') return;
      this.context.logger.info({ protocol: 'amqp', remoteAddress: this.remoteAddress, mechanism, err: error }, 'AMQP login refused');
      // authentication_failure_close: a connection.close with 403, as RabbitMQ sends.
      this.connectionError(
        reply('ACCESS_REFUSED', `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`),
        10,
        11,
      );
      this.drainReader();
      return;
    }
    if (this.state !== 'authenticating') return;
    this.state = 'tune-ok';
    this.writer.method(0, {
      name: 'connection.tune',
      channelMax: this.settings.channelMax,
      frameMax: this.settings.frameMax,
      heartbeat: this.settings.heartbeat,
    });
    this.flush();
    this.drainReader();
  }

  /**
   * connection.update-secret (RabbitMQ's extension, for expiring tokens): the same user presents a new
   * secret, checked by the authentication port as at login. Accepted: the connection goes on with the
   * principal the port returned. Refused: 530 NOT_ALLOWED with RabbitMQ's text, closing the connection.
   */
  private async updateSecret(newSecret: Uint8Array, reason: string): Promise<void> {
    const username = this.principal!.username;
    this.secretPending = true;
    let principal: Principal | undefined;
    try {
      principal = await this.context.authenticator.authenticate({
        mechanism: this.mechanism,
        username,
        password: textDecoder.decode(newSecret),
        remoteAddress: this.remoteAddress,
        protocol: 'amqp',
      });
      // The secret may renew the user's rights, never change who the connection is.
      if (principal.username !== username) principal = undefined;
    } catch (error) {
      this.context.logger.info({ protocol: 'amqp', remoteAddress: this.remoteAddress, username, err: error }, 'AMQP secret update refused');
    }
    this.secretPending = false;
    if (this.state === 'closed') return;
    if (this.state === 'running' && principal === undefined) {
      this.connectionError(reply('NOT_ALLOWED', 'New secret was refused by one of the backends'), 10, 70);
    } else if (this.state === 'running' && principal !== undefined) {
      this.principal = principal;
      this.core!.principal = principal;
      this.context.logger.info({ protocol: 'amqp', remoteAddress: this.remoteAddress, username, reason }, 'AMQP user updated secret');
      this.writer.method(0, { name: 'connection.update-secret-ok' });
    }
    // Also when closing meanwhile (broker shutdown): the peer's close-ok may be waiting in the reader.
    this.drainReader();
  }

  private tuned(channelMax: number, frameMax: number, heartbeat: number): void {
    this.channelMax = channelMax === 0 ? this.settings.channelMax : Math.min(channelMax, this.settings.channelMax);
    const negotiated = frameMax === 0 ? this.settings.frameMax : Math.min(frameMax, this.settings.frameMax);
    if (negotiated < FRAME_MIN_SIZE) {
      this.connectionError(reply('NOT_ALLOWED', `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`), 10, 31);
      return;
    }
    this.reader.setFrameMax(negotiated);
    this.writer.setFrameMax(negotiated);
    if (heartbeat > 0) this.startHeartbeats(heartbeat * 1000);
    this.state = 'open';
  }

  /**
   * Ticks at half the interval, as RabbitMQ does, so the peer never waits a whole interval for a frame
   * however the two timers are phased; the peer is dead after two whole intervals of silence.
   */
  private startHeartbeats(intervalMs: number): void {
    this.heartbeatTimer = setInterval(() => {
      if (!this.sentSinceTick) {
        this.writer.heartbeat();
        this.flush();
      }
      this.sentSinceTick = false;
      // A client the broker stopped reading (resource alarm) is not judged by the frames it could not send.
      if (this.receivedSinceTick || this.readBlocked || this.stopWaitingForFlow !== undefined) {
        this.missedTicks = 0;
        this.receivedSinceTick = false;
        return;
      }
      this.missedTicks += 1;
      if (this.missedTicks >= 4) {
        this.context.logger.info({ protocol: 'amqp', remoteAddress: this.remoteAddress }, 'AMQP peer missed heartbeats: closing');
        this.destroy();
      }
    }, intervalMs / 2);
    this.heartbeatTimer.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // ChannelSessionHost

  flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushNow);
  }

  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /**
   * A basic.publish began. During a resource alarm this connection is not read any further (RabbitMQ's
   * "blocked" state): the socket pauses, TCP pushes back on the publisher, and the frames already read
   * wait in the reader until the alarm clears. Connections that only consume are never blocked.
   */
  publishStarted(): void {
    if (!this.broker.alarms.blocked || this.readBlocked) return;
    this.readBlocked = true;
    if (this.core) this.core.publishBlocked = true;
    this.socket.pause();
  }

  /**
   * A publish went to a queue whose backlog its consumers are draining more slowly than it fills
   * (RabbitMQ's "flow" connection state): the connection is not read until the queue drains or the core
   * stops holding it. Frames already read wait in the reader.
   */
  holdBack(gate: FlowGate): void {
    if (this.stopWaitingForFlow !== undefined || this.state !== 'running') return;
    this.socket.pause();
    if (this.core) this.core.publishHeld = true;
    this.stopWaitingForFlow = gate.onceOpen(() => {
      this.stopWaitingForFlow = undefined;
      if (this.core) this.core.publishHeld = false;
      if (this.state !== 'running') return;
      if (!this.readBlocked) this.socket.resume();
      this.drainReader();
    });
  }

  private alarmChanged(blocked: boolean): void {
    if (this.state !== 'running') return;
    if (this.wantsBlockedNotices) {
      this.writer.method(0, blocked ? { name: 'connection.blocked', reason: this.broker.alarms.reason } : { name: 'connection.unblocked' });
      this.flushSoon();
    }
    if (!blocked && this.readBlocked) {
      this.readBlocked = false;
      if (this.core) this.core.publishBlocked = false;
      if (this.stopWaitingForFlow !== undefined) return;
      this.socket.resume();
      this.drainReader();
    }
  }

  confirmsReady(channel: ChannelSession): void {
    this.confirmChannels.add(channel);
    this.flushSoon();
  }

  channelFinished(id: number): void {
    const channel = this.channels.get(id);
    if (channel === undefined) return;
    this.channels.delete(id);
    this.confirmChannels.delete(channel);
  }

  logError(error: unknown, message: string): void {
    this.context.logger.error({ protocol: 'amqp', remoteAddress: this.remoteAddress, err: error }, message);
  }

  /** A hard error: connection.close with the reply, then wait for close-ok (or time out). */
  connectionError(failure: AmqpReply, classId: number, methodId: number): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.releaseChannels();
    this.stopWaitingForFlow?.();
    this.stopWaitingForFlow = undefined;
    if (this.readBlocked) {
      // The close handshake needs the peer's close-ok: read again (content held back is dropped as closing).
      this.readBlocked = false;
    }
    this.socket.resume();
    this.writer.method(0, { name: 'connection.close', replyCode: failure.code, replyText: failure.text, classId, methodId });
    this.flushSoon();
    this.closeTimer = setTimeout(() => this.destroy(), this.settings.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private flush(): void {
    if (this.confirmChannels.size > 0) {
      for (const channel of this.confirmChannels) channel.flushConfirms();
      this.confirmChannels.clear();
    }
    if (this.writer.length === 0) return;
    const bytes = this.writer.take();
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.sentSinceTick = true;
    if (!this.socket.write(bytes) && !this.writeBlocked) {
      // Backpressure: stop deliveries until the socket drains, rather than buffer without bound.
      this.writeBlocked = true;
      for (const channel of this.channels.values()) channel.socketWritable(false);
      this.socket.once('drain', this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false;
    for (const channel of this.channels.values()) channel.socketWritable(true);
  };

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /** Broker shutdown: connection.close 320, then wait for the client's close-ok (bounded). */
  shutdown(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (this.state === 'closing') return done;
    if (this.state !== 'running') {
      this.destroy();
      return done;
    }
    this.connectionError(reply('CONNECTION_FORCED', "broker forced connection closure with reason 'shutdown'"), 0, 0);
    this.flush();
    return done;
  }

  private releaseChannels(): void {
    for (const channel of this.channels.values()) channel.release();
    this.channels.clear();
    this.confirmChannels.clear();
  }

  /** The close handshake is done: end the socket politely. */
  private finish(): void {
    this.flush();
    this.socket.end();
    this.cleanup();
  }

  private destroy(): void {
    this.socket.destroy();
    this.cleanup();
  }

  /** The socket is gone (or going): free everything the connection held. */
  cleanup(): void {
    if (this.state === 'closed' && this.core === undefined) {
      this.resolveWaiters();
      return;
    }
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.closeTimer);
    clearInterval(this.heartbeatTimer);
    this.stopWatchingAlarms?.();
    this.stopWaitingForFlow?.();
    this.releaseChannels();
    const core = this.core;
    this.core = undefined;
    if (core !== undefined) {
      core.close().then(
        () => this.resolveWaiters(),
        (error: unknown) => {
          this.logError(error, 'AMQP connection cleanup failed');
          this.resolveWaiters();
        },
      );
    } else {
      this.resolveWaiters();
    }
  }

  private resolveWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** `client-properties.capabilities.<name>` is true. */
function capabilityOf(clientProperties: FieldTable, name: string): boolean {
  const capabilities = clientProperties['capabilities'];
  return typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities) && (capabilities as FieldTable)[name] === true;
}

interface PlainCredentials {
  readonly username: string;
  readonly password: string;
}

/** PLAIN: `authzid NUL authcid NUL passwd` (RFC 4616). AMQPLAIN: a field table without its size prefix. */
function parseCredentials(mechanism: string, response: Uint8Array): PlainCredentials | undefined {
  if (mechanism === 'PLAIN') {
    const parts = textDecoder.decode(response).split('\u0000');
    if (parts.length !== 3) return { username: '', password: '' };
    return { username: parts[1]!, password: parts[2]! };
  }
  if (mechanism === 'AMQPLAIN') {
    const sized = new Uint8Array(response.byteLength + 4);
    new DataView(sized.buffer).setUint32(0, response.byteLength);
    sized.set(response, 4);
    let table: FieldTable;
    try {
      table = decodeFieldTable(sized);
    } catch {
      return { username: '', password: '' };
    }
    const login = table['LOGIN'];
    const password = table['PASSWORD'];
    return { username: typeof login === 'string' ? login : '', password: typeof password === 'string' ? password : '' };
  }
  return undefined;
}
