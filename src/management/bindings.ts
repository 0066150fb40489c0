import type { BindingDeclaration } from '../core/broker.js';
import { BrokerError } from '../core/errors.js';
import type { BindingRecord } from '../core/ports.js';
import { headerTablesEqual } from '../core/routing/headers-match.js';
import { sendJson } from '../transport/http/problem.js';
import { onlyFields, optionalArguments, optionalString, readJsonBody, requiredString } from './body.js';
import type { ManagementRequest } from './route-types.js';
import { bindingView } from './views.js';

async function bindingFromBody(api: ManagementRequest): Promise<BindingDeclaration> {
  const body = await readJsonBody(api);
  onlyFields(body, ['source', 'destination', 'destinationKind', 'routingKey', 'arguments'], 'a binding');
  const destinationKind = optionalString(body, 'destinationKind') ?? 'queue';
  if (destinationKind !== 'queue' && destinationKind !== 'exchange') {
    throw new BrokerError('INVALID_ARGUMENT', "field 'destinationKind' must be 'queue' or 'exchange'", { field: 'destinationKind' });
  }
  return {
    source: requiredString(body, 'source'),
    destination: requiredString(body, 'destination'),
    destinationKind,
    routingKey: optionalString(body, 'routingKey') ?? '',
    arguments: optionalArguments(body) ?? {},
  };
}

function sameBinding(record: BindingRecord, declaration: BindingDeclaration): boolean {
  const kind = record.destinationKind === 'exchange' ? 'exchange' : 'queue';
  return (
    record.source === declaration.source &&
    record.destination === declaration.destination &&
    kind === declaration.destinationKind &&
    record.routingKey === declaration.routingKey &&
    headerTablesEqual(record.arguments, declaration.arguments ?? {})
  );
}

function exists(api: ManagementRequest, declaration: BindingDeclaration): boolean {
  return api.broker.listBindings().some((record) => sameBinding(record, declaration));
}

export function listBindings(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listBindings().map(bindingView));
}

/** POST /api/bindings: 201 when bound now, 204 when the binding existed. */
export async function createBinding(api: ManagementRequest): Promise<void> {
  const declaration = await bindingFromBody(api);
  const existed = exists(api, declaration);
  await api.broker.bind(api.principal, undefined, declaration);
  if (existed) {
    api.response.writeHead(204).end();
    return;
  }
  sendJson(api.response, 201, bindingView({ ...declaration, arguments: declaration.arguments ?? {} }));
}

/** DELETE /api/bindings with the binding in the body: 204, or 404 when there is no such binding. */
export async function deleteBinding(api: ManagementRequest): Promise<void> {
  const declaration = await bindingFromBody(api);
  if (!exists(api, declaration)) {
    throw new BrokerError(
      'BINDING_NOT_FOUND',
      `no binding from '${declaration.source}' to ${declaration.destinationKind} '${declaration.destination}' with routing key '${declaration.routingKey}'`,
      { source: declaration.source, destination: declaration.destination },
    );
  }
  await api.broker.unbind(api.principal, undefined, declaration);
  api.response.writeHead(204).end();
}
