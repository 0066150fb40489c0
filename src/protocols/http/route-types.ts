import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broker } from '../../core/broker.js';
import type { Authenticator, Clock, Logger, Principal } from '../../core/ports.js';

/** What the server's router hands a route (structurally the server's RouteContext). */
export interface HttpApiRouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

/** A route for the server's HTTP router (structurally the server's HttpRoute). */
export interface HttpApiRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(context: HttpApiRouteContext): void | Promise<void>;
}

/** What the server hands the API once the broker is open (structurally the server's adapter context). */
export interface HttpApiContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
}

/** One authenticated request, as the handlers see it. */
export interface ApiRequest extends HttpApiRouteContext {
  readonly principal: Principal;
  readonly broker: Broker;
  readonly clock: Clock;
}
