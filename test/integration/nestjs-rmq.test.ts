/** A NestJS RMQ microservice (events and request/response over direct reply-to) running against Courier unchanged. */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { createRecorder, startOrdersMicroservice } from '../support/nest/nest-app.js';
import { startAmqpServer } from './amqp-harness.js';

test('a NestJS RMQ microservice handles emitted events and answers send() through Courier', { timeout: 30_000 }, async () => {
  const server = await startAmqpServer();
  const recorder = createRecorder();
  const rmqOptions = { urls: [server.url()], queue: 'orders', queueOptions: { durable: true } };
  let client: ClientProxy | undefined;
  let app: Awaited<ReturnType<typeof startOrdersMicroservice>> | undefined;
  try {
    app = await startOrdersMicroservice(recorder, { transport: Transport.RMQ, options: rmqOptions });
    client = ClientProxyFactory.create({ transport: Transport.RMQ, options: rmqOptions });
    await client.connect();

    await lastValueFrom(client.emit('order.created', { id: 'o-1', total: 42 }));
    assert.deepEqual(await recorder.eventsReached(1, 5000), [{ id: 'o-1', total: 42 }]);

    const sum = await lastValueFrom(client.send<number, number[]>('sum', [1, 2, 3]));
    assert.equal(sum, 6);
    assert.equal(await lastValueFrom(client.send<number, number[]>({ cmd: 'sum' }, [4, 5])), 9);
  } finally {
    await client?.close();
    await app?.close();
    await server.close();
  }
});
