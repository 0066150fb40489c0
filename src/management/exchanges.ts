import { BrokerError } from '../core/errors.js';
import type { ExchangeRecord } from '../core/ports.js';
import { sendJson } from '../transport/http/problem.js';
import { booleanQuery, onlyFields, optionalArguments, optionalBoolean, readJsonBody, requiredString } from './body.js';
import type { ManagementRequest } from './route-types.js';
import { exchangeView } from './views.js';

function findExchange(api: ManagementRequest, name: string): ExchangeRecord | undefined {
  return api.broker.listExchanges().find((exchange) => exchange.name === name);
}

function requireExchange(api: ManagementRequest, name: string): ExchangeRecord {
  const exchange = findExchange(api, name);
  if (!exchange) throw new BrokerError('EXCHANGE_NOT_FOUND', `no exchange '${name}' in vhost '/'`, { exchange: name });
  return exchange;
}

export function listExchanges(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listExchanges().map(exchangeView));
}

export function getExchange(api: ManagementRequest, name: string): void {
  sendJson(api.response, 200, exchangeView(requireExchange(api, name)));
}

/**
 * PUT /api/exchanges/{name}: 201 when created, 204 when an equal one exists, 409 when it exists with other
 * settings. `durable` defaults to true, as in RabbitMQ's management API: an exchange made by an operator
 * is meant to stay.
 */
export async function putExchange(api: ManagementRequest, name: string): Promise<void> {
  const body = await readJsonBody(api);
  onlyFields(body, ['type', 'durable', 'autoDelete', 'internal', 'arguments'], 'an exchange');
  const type = requiredString(body, 'type');
  const durable = optionalBoolean(body, 'durable') ?? true;
  const autoDelete = optionalBoolean(body, 'autoDelete') ?? false;
  const internal = optionalBoolean(body, 'internal') ?? false;
  const args = optionalArguments(body) ?? {};
  const existed = findExchange(api, name) !== undefined;
  await api.broker.declareExchange(api.principal, { name, type, durable, autoDelete, internal, arguments: args });
  if (existed) {
    api.response.writeHead(204).end();
    return;
  }
  sendJson(api.response, 201, exchangeView(requireExchange(api, name)), { location: `/api/exchanges/${encodeURIComponent(name)}` });
}

export async function deleteExchange(api: ManagementRequest, name: string): Promise<void> {
  requireExchange(api, name);
  await api.broker.deleteExchange(api.principal, name, booleanQuery(api.url, 'ifUnused'));
  api.response.writeHead(204).end();
}
