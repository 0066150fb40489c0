import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broker } from '../core/broker.js';
import type { Authenticator, Logger, Principal } from '../core/ports.js';
import type { ManagementSampler } from './sampler.js';

/** What the server's router hands a route (structurally the server's RouteContext). */
export interface ManagementRouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

/** A route for the server's HTTP router (structurally the server's HttpRoute). */
export interface ManagementRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  handle(context: ManagementRouteContext): void | Promise<void>;
}

/** What the server hands the management API once the broker is open. */
export interface ManagementContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  /** Courier's version, shown by the overview. */
  readonly serverVersion?: string;
}

/** One authenticated management request, as the handlers see it. */
export interface ManagementRequest extends ManagementRouteContext {
  readonly principal: Principal;
  readonly broker: Broker;
  readonly sampler: ManagementSampler;
  readonly version: string;
  /** When the management API was attached (the broker's start), in ms on the broker's clock. */
  readonly startedAt: number;
  readonly maxBodyBytes: number;
}
