/** A NestJS MQTT microservice (events and request/response over `<pattern>/reply` topics) running against Courier unchanged. */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout, type Observable } from 'rxjs';
import { createRecorder, startOrdersMicroservice } from '../support/nest/nest-app.js';
import { startMqttServer } from './mqtt-harness.js';

test('a NestJS MQTT microservice handles emitted events and answers send() through Courier', { timeout: 30_000 }, async () => {
  const server = await startMqttServer();
  const recorder = createRecorder();
  const mqttOptions = { url: `mqtt://127.0.0.1:${server.port}` };
  let client: ClientProxy | undefined;
  let app: Awaited<ReturnType<typeof startOrdersMicroservice>> | undefined;
  try {
    app = await startOrdersMicroservice(recorder, { transport: Transport.MQTT, options: mqttOptions });
    client = ClientProxyFactory.create({ transport: Transport.MQTT, options: mqttOptions });
    await client.connect();

    // Requests first: Nest subscribes to every pattern right after CONNACK without waiting for SUBACK, and a
    // QoS 0 message published before its subscription is active is dropped (as on any MQTT broker), the
    // first request included: it is asked again until answered. An answered request shows the
    // subscriptions sent before it are in place.
    assert.equal(await firstAnswer(() => client!.send<number, number[]>('sum', [1, 2, 3])), 6);
    assert.equal(await lastValueFrom(client.send<number, number[]>({ cmd: 'sum' }, [4, 5])), 9);

    await lastValueFrom(client.emit('order.created', { id: 'o-1', total: 42 }));
    assert.deepEqual(await recorder.eventsReached(1, 5000), [{ id: 'o-1', total: 42 }]);
  } finally {
    await client?.close();
    await app?.close();
    await server.close();
  }
});

/** The answer to a request asked again (it is idempotent) while the service's subscriptions may not be active yet. */
async function firstAnswer<T>(ask: () => Observable<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lastValueFrom(ask().pipe(timeout(1000)));
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}
