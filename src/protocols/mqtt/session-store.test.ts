import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { createMessage } from '../../core/message/message.js';
import { silentLogger } from '../../core/null-ports.js';
import { RetainedStore } from '../../core/retained/retained-store.js';
import { ArrayLog } from '../../core/stream/test-log.js';
import { SessionStore } from './session-store.js';

/** A store over `log`; a second one over the same log recovers what the first wrote, as after a restart. */
function storeOver(log: ArrayLog): SessionStore {
  return new SessionStore(new RetainedStore({ openLog: () => Promise.resolve(log), clock: new ManualClock(), logger: silentLogger }));
}

describe('mqtt session store', () => {
  it('keeps packet identifiers per client and kind until they are cleared', async () => {
    const log = new ArrayLog({ name: 'amq.kv.mqtt-sessions' });
    const store = storeOver(log);
    await store.saveId('inbound', 'a.b', 7);
    await store.saveId('inbound', 'a.b', 8);
    await store.saveId('pubrel', 'a.b', 7);
    await store.saveId('inbound', 'other', 7);
    await store.clearId('inbound', 'a.b', 8);

    const loaded = await storeOver(log).load();
    assert.deepEqual([...loaded.inbound.entries()].sort(), [
      ['a.b', [7]],
      ['other', [7]],
    ]);
    assert.deepEqual([...loaded.pubrel.entries()], [['a.b', [7]]]);
    assert.deepEqual(loaded.wills, []);
  });

  it('gives back a stored will as it was, without the store headers', async () => {
    const log = new ArrayLog({ name: 'amq.kv.mqtt-sessions' });
    const store = storeOver(log);
    const message = createMessage({
      exchange: 'amq.topic',
      routingKey: 'wills.a',
      headers: { 'x-mqtt-publish-qos': 1, colour: 'blue' },
      properties: { expiration: 5000, timestamp: 1000 },
      body: new TextEncoder().encode('gone'),
      persistent: true,
    });
    await store.saveWill({ clientId: 'a', dueAt: 61_000, principal: { username: 'guest', tags: ['administrator'] }, message });
    await store.saveWill({ clientId: 'b', dueAt: 1, principal: { username: 'guest', tags: [] }, message });
    await store.clearWill('b');

    const [will, ...rest] = (await storeOver(log).load()).wills;
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { clientId: will!.clientId, dueAt: will!.dueAt, principal: will!.principal },
      { clientId: 'a', dueAt: 61_000, principal: { username: 'guest', tags: ['administrator'] } },
    );
    assert.deepEqual(will!.message.headers, message.headers);
    assert.deepEqual(
      [will!.message.routingKey, will!.message.properties, new TextDecoder().decode(will!.message.body), will!.message.persistent],
      ['wills.a', message.properties, 'gone', true],
    );
  });
});
