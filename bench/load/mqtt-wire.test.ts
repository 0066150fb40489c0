import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';
import { FrameReader, encodeConnect, encodePuback, encodePublish, encodeSubscribe, readPublish, remainingLengthBytes } from './mqtt-wire.js';

/** Decodes with an independent codec, so an encoding bug here cannot hide behind a matching decoding bug. */
function decode(bytes: Buffer): Packet[] {
  const parser = createParser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.on('error', (error: Error) => errors.push(error));
  parser.parse(bytes);
  assert.deepEqual(errors, []);
  return packets;
}

test('CONNECT, SUBSCRIBE and PUBACK decode as what they claim to be', () => {
  const [connect] = decode(encodeConnect({ clientId: 'bench-1', cleanSession: true, keepAliveSeconds: 0, username: 'u', password: 'p' }));
  assert.equal(connect?.cmd, 'connect');
  assert.equal(connect.clientId, 'bench-1');
  assert.equal(connect.clean, true);
  assert.equal(connect.keepalive, 0);
  assert.equal(connect.protocolVersion, 4);
  assert.equal(connect.username, 'u');
  assert.equal(String(connect.password), 'p');

  const [subscribe] = decode(encodeSubscribe(7, 'bench/+/t', 1));
  assert.equal(subscribe?.cmd, 'subscribe');
  assert.equal(subscribe.messageId, 7);
  assert.deepEqual(subscribe.subscriptions.map(({ topic, qos }) => ({ topic, qos })), [{ topic: 'bench/+/t', qos: 1 }]);

  const [puback] = decode(encodePuback(65_535));
  assert.equal(puback?.cmd, 'puback');
  assert.equal(puback.messageId, 65_535);
});

test('PUBLISH frames decode at QoS 0 and 1, and the layout points at the packet id and the payload', () => {
  for (const size of [0, 16, 1024, 200_000]) {
    const payload = Buffer.alloc(size, 0x61);
    const { frame, layout } = encodePublish('bench/topic', payload, 1, 513);
    assert.equal(layout.frameLength, frame.length);
    frame.writeUInt16BE(4242, layout.packetIdOffset);
    const [publish] = decode(frame);
    assert.equal(publish?.cmd, 'publish');
    assert.equal(publish.topic, 'bench/topic');
    assert.equal(publish.qos, 1);
    assert.equal(publish.messageId, 4242);
    assert.equal(Buffer.compare(publish.payload as Buffer, payload), 0);
    assert.equal(frame.length - layout.payloadOffset, size);
  }
  const { frame, layout } = encodePublish('t', Buffer.from('hi'), 0, 1);
  assert.equal(layout.packetIdOffset, -1);
  const [publish] = decode(frame);
  assert.equal(publish?.cmd === 'publish' && publish.qos, 0);
});

test('remaining lengths take 1 to 4 bytes at the boundaries of the encoding', () => {
  assert.deepEqual([0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152].map(remainingLengthBytes), [1, 1, 2, 2, 3, 3, 4]);
  assert.throws(() => remainingLengthBytes(268_435_456), RangeError);
});

test('the frame reader finds every frame whatever the chunk boundaries, and reads PUBLISH in place', () => {
  const frames = [
    generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 1), qos: 1, messageId: 9, retain: false, dup: false }),
    generate({ cmd: 'puback', messageId: 10 }),
    generate({ cmd: 'publish', topic: 'c', payload: Buffer.from('xyz'), qos: 0, retain: false, dup: false }),
  ];
  const stream = Buffer.concat(frames);
  for (let cut = 1; cut < stream.length; cut += 7) {
    for (const size of [1, 2, 5, 64]) {
      const reader = new FrameReader();
      const seen: string[] = [];
      const view = { qos: 0, packetId: 0, payloadStart: 0 };
      const onFrame = (header: number, data: Buffer, start: number, end: number): void => {
        if (header >> 4 === 3) {
          readPublish(header, data, start, view);
          seen.push(`publish qos${view.qos} id${view.packetId} ${end - view.payloadStart}B ${data.subarray(view.payloadStart, Math.min(end, view.payloadStart + 3)).toString('hex')}`);
        } else seen.push(`type${header >> 4} ${data.readUInt16BE(start)}`);
      };
      reader.push(stream.subarray(0, cut), onFrame);
      for (let offset = cut; offset < stream.length; offset += size) reader.push(stream.subarray(offset, offset + size), onFrame);
      assert.deepEqual(seen, ['publish qos1 id9 300B 010101', 'type4 10', 'publish qos0 id0 3B 78797a'], `cut ${cut}, chunks of ${size}`);
    }
  }
});
