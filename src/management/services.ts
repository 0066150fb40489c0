import { BrokerError } from '../core/errors.js';
import type { ServiceRecord } from '../core/ports.js';
import { sendJson } from '../transport/http/problem.js';
import { onlyFields, readJsonBody } from './body.js';
import type { ManagementRequest } from './route-types.js';
import { serviceView } from './views.js';

const SERVICE_FIELDS = ['produces', 'consumes', 'displayName', 'description'];

/** SERVICE_NOT_FOUND answered as 404 (the HTTP layer's code table does not know the code yet). */
function requireService(api: ManagementRequest, name: string): ServiceRecord {
  const service = api.broker.getService(name);
  if (!service) throw new BrokerError('SERVICE_NOT_FOUND', `no service named '${name}'`, { name, httpStatus: 404 });
  return service;
}

export function listServices(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listServices().map(serviceView));
}

export function getService(api: ManagementRequest, name: string): void {
  sendJson(api.response, 200, serviceView(requireService(api, name)));
}

/**
 * PUT /api/services/{name}: replaces the whole record (fields left out are cleared). 201 created, 204 when
 * an equal service exists, 200 with the record when it changed. A topic the broker does not have is 409
 * (PRECONDITION_FAILED): the same request succeeds once the topic is created.
 */
export async function putService(api: ManagementRequest, name: string): Promise<void> {
  const body = await readJsonBody(api, true);
  onlyFields(body, SERVICE_FIELDS, 'a service');
  const { service, outcome } = await api.broker.putService(api.principal, { ...body, name });
  if (outcome === 'unchanged') api.response.writeHead(204).end();
  else if (outcome === 'created') sendJson(api.response, 201, serviceView(service), { location: `/api/services/${encodeURIComponent(service.name)}` });
  else sendJson(api.response, 200, serviceView(service));
}

/** DELETE /api/services/{name}: the record only; the service's queues stay (they may hold messages). */
export async function deleteService(api: ManagementRequest, name: string): Promise<void> {
  requireService(api, name);
  await api.broker.deleteService(api.principal, name);
  api.response.writeHead(204).end();
}
