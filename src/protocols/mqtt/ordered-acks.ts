/**
 * PUBACKs and PUBRECs for a connection's QoS 1/2 publishes, each sent once its message is durable, and
 * in the order the PUBLISHes arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3] even when a later message became
 * durable first (it went to other queues).
 */

export interface PendingAck {
  readonly packetId: number;
  readonly kind: 'puback' | 'pubrec';
  /** 5.0 reason code. */
  readonly reasonCode: number;
}

interface Entry extends PendingAck {
  done: boolean;
}

export class OrderedAcks {
  private entries: Entry[] = [];
  private head = 0;

  constructor(
    private readonly send: (ack: PendingAck) => void,
    /** Storing failed: the message is not confirmed; the session closes so the client resends it. */
    private readonly failed: (error: unknown) => void,
  ) {}

  get pending(): number {
    return this.entries.length - this.head;
  }

  /** An acknowledgement whose message is durable already: sent now unless earlier ones still wait. */
  ready(ack: PendingAck): void {
    if (this.head === this.entries.length) {
      this.send(ack);
      return;
    }
    this.entries.push({ ...ack, done: true });
  }

  push(ack: PendingAck, durable: Promise<unknown>): void {
    const entry: Entry = { ...ack, done: false };
    this.entries.push(entry);
    durable.then(
      () => {
        entry.done = true;
        this.flush();
      },
      (error: unknown) => this.failed(error),
    );
  }

  private flush(): void {
    const entries = this.entries;
    while (this.head < entries.length && entries[this.head]!.done) this.send(entries[this.head++]!);
    if (this.head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
  }
}
