/**
 * Builds a tiny NestJS microservice module without decorator syntax: the project compiles without
 * `experimentalDecorators`, so Nest's decorators are applied programmatically, the way the compiler would.
 */
import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, type MicroserviceOptions } from '@nestjs/microservices';

export interface OrdersRecorder {
  readonly events: unknown[];
  /** Resolves once `count` events have been handled, or rejects after `ms`. */
  eventsReached(count: number, ms: number): Promise<unknown[]>;
}

export function createRecorder(): OrdersRecorder & { record(payload: unknown): void } {
  const events: unknown[] = [];
  const waiters: (() => void)[] = [];
  return {
    events,
    record(payload) {
      events.push(payload);
      for (const waiter of waiters.splice(0)) waiter();
    },
    eventsReached(count, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} events (got ${events.length})`)), ms);
        const check = (): void => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve(events);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** `order.created` events are recorded; `sum` and `{ cmd: 'sum' }` requests answer the sum of the numbers sent. */
function ordersModule(recorder: ReturnType<typeof createRecorder>): new () => object {
  class OrdersController {
    onOrderCreated(payload: unknown): void {
      recorder.record(payload);
    }
    sum(numbers: number[]): number {
      return numbers.reduce((total, n) => total + n, 0);
    }
    sumCommand(numbers: number[]): number {
      return this.sum(numbers);
    }
  }
  const proto = OrdersController.prototype;
  Reflect.decorate([EventPattern('order.created')], proto, 'onOrderCreated', Object.getOwnPropertyDescriptor(proto, 'onOrderCreated'));
  Reflect.decorate([MessagePattern('sum')], proto, 'sum', Object.getOwnPropertyDescriptor(proto, 'sum'));
  Reflect.decorate([MessagePattern({ cmd: 'sum' })], proto, 'sumCommand', Object.getOwnPropertyDescriptor(proto, 'sumCommand'));
  Controller()(OrdersController);

  class OrdersModule {}
  Module({ controllers: [OrdersController] })(OrdersModule);
  return OrdersModule;
}

export async function startOrdersMicroservice(
  recorder: ReturnType<typeof createRecorder>,
  transport: MicroserviceOptions,
): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ordersModule(recorder), { ...transport, logger: false });
  await app.listen();
  return app;
}
