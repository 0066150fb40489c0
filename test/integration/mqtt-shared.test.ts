/**
 * Shared subscriptions `$share/{group}/{filter}` with the real `mqtt` client: one queue per group and
 * filter, its messages balanced over the members, each message to one member of each group.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { Inbox, closed, connectClient, connectWithInbox, startMqttServer, until, type MqttTestServer } from './mqtt-harness.js';

async function subackCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters)).map((grant) => grant.qos);
  } catch (error) {
    return (error as { packet: { granted: number[] } }).packet.granted;
  }
}

describe('mqtt shared subscriptions', () => {
  let broker: MqttTestServer;
  const clients: MqttClient[] = [];
  before(async () => {
    broker = await startMqttServer();
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });
  const client = async (options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, options);
    clients.push(connected);
    return connected;
  };

  it('advertises shared subscriptions in the 5.0 CONNACK', async () => {
    const { client: connected, connack } = await connectWithInbox(broker.port, { protocolVersion: 5 });
    clients.push(connected);
    assert.equal(connack.properties?.sharedSubscriptionAvailable, true);
  });

  it('balances a group over its members (5.0 and 3.1.1), while plain and other-group subscribers get everything', async () => {
    const members = [await client({ protocolVersion: 5 }), await client({ protocolVersion: 4 })];
    const memberInboxes = members.map((member) => new Inbox(member));
    for (const member of members) assert.deepEqual(await subackCodes(member, { '$share/workers/jobs/#': { qos: 1 } }), [1]);
    const plain = await client();
    const plainInbox = new Inbox(plain);
    await plain.subscribeAsync('jobs/#', { qos: 1 });
    const auditor = await client({ protocolVersion: 5 });
    const auditorInbox = new Inbox(auditor);
    await auditor.subscribeAsync('$share/audit/jobs/#', { qos: 0 });

    const publisher = await client();
    const count = 20;
    for (let i = 0; i < count; i++) await publisher.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await plainInbox.waitFor(count);
    await auditorInbox.waitFor(count);
    await until(() => memberInboxes[0]!.messages.length + memberInboxes[1]!.messages.length >= count, 'the group to receive every job');
    const shared = memberInboxes.flatMap((inbox) => inbox.texts).sort();
    assert.deepEqual(shared, Array.from({ length: count }, (_, i) => `job ${i}`).sort(), 'each job once in the group');
    for (const inbox of memberInboxes) assert.ok(inbox.messages.length > 0, 'every member got a share');
    assert.ok(memberInboxes[0]!.messages.every((message) => message.topic.startsWith('jobs/') && message.packet.qos === 1));
    assert.ok(auditorInbox.messages.every((message) => message.packet.qos === 0));
  });

  it('gives the remaining members everything once one unsubscribes', async () => {
    const leaving = await client();
    const staying = await client();
    const leavingInbox = new Inbox(leaving);
    const stayingInbox = new Inbox(staying);
    await leaving.subscribeAsync('$share/pool/tasks', { qos: 1 });
    await staying.subscribeAsync('$share/pool/tasks', { qos: 1 });
    await leaving.unsubscribeAsync('$share/pool/tasks');
    const publisher = await client();
    for (let i = 0; i < 6; i++) await publisher.publishAsync('tasks', `t${i}`, { qos: 1 });
    await stayingInbox.waitFor(6);
    assert.equal(leavingInbox.messages.length, 0);
  });

  it("gives a member's unacknowledged messages to the others when it disconnects, with DUP set", async () => {
    const withheld: string[] = [];
    const greedy = await client({ clientId: 'greedy', protocolVersion: 5, customHandleAcks: (_topic, message) => void withheld.push(message.toString()) });
    const steady = await client();
    const steadyInbox = new Inbox(steady);
    await greedy.subscribeAsync('$share/crew/work', { qos: 1 });
    await steady.subscribeAsync('$share/crew/work', { qos: 1 });
    const publisher = await client();
    for (let i = 0; i < 4; i++) await publisher.publishAsync('work', `w${i}`, { qos: 1 });
    await until(() => withheld.length >= 1, 'the greedy member to hold a message');
    await greedy.endAsync(true);
    await steadyInbox.waitFor(4);
    assert.deepEqual([...steadyInbox.texts].sort(), ['w0', 'w1', 'w2', 'w3']);
    for (const message of steadyInbox.messages) {
      if (withheld.includes(message.text)) assert.equal(message.packet.dup, true, `${message.text} came back redelivered`);
    }
  });

  it('refuses an invalid share name or filter: 0x8F in 5.0, 0x80 in 3.1.1', async () => {
    const v5 = await client({ protocolVersion: 5 });
    assert.deepEqual(await subackCodes(v5, { '$share/nofilter': { qos: 1 }, '$share/g/#': { qos: 1 }, '$share//x': { qos: 1 } }), [0x8f, 1, 0x8f]);
    const v3 = await client();
    assert.deepEqual(await subackCodes(v3, { '$share//x': { qos: 1 }, '$share/ok/y': { qos: 0 } }), [0x80, 0]);
  });

  it('disconnects a 5.0 client asking for No Local on a shared subscription (protocol error)', async () => {
    const v5 = await client({ protocolVersion: 5 });
    const gone = closed(v5);
    v5.subscribe('$share/g/nl', { qos: 1, nl: true }, () => undefined);
    await gone;
  });
});
