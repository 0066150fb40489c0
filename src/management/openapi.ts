/**
 * The management API's part of the OpenAPI 3.1 document served at GET /api/openapi.json. The messaging
 * API's document (src/protocols/http/openapi.ts) is handed in by the server and extended here, so
 * management never imports a protocol adapter and the HTTP port has one description.
 */

export interface OpenApiDocument {
  readonly info?: Readonly<Record<string, unknown>>;
  readonly paths?: Readonly<Record<string, unknown>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, unknown>>; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

const problem = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const errors = { '400': problem, '401': problem, '403': problem, '404': problem, '409': problem, '503': problem };
const ref = (name: string): Record<string, unknown> => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Record<string, unknown>, description = 'OK'): Record<string, unknown> => ({ description, content: { 'application/json': { schema } } });
const list = (name: string): Record<string, unknown> => json({ type: 'array', items: ref(name) });
const body = (schema: Record<string, unknown>, required = true): Record<string, unknown> => ({ required, content: { 'application/json': { schema } } });
const noContent = (description: string): Record<string, unknown> => ({ description });

function pathParam(name: string, description: string): Record<string, unknown> {
  return { name, in: 'path', required: true, description, schema: { type: 'string' } };
}

function flag(name: string, description: string): Record<string, unknown> {
  return { name, in: 'query', required: false, description, schema: { type: 'boolean', default: false } };
}

function op(summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { summary, tags: ['management'], ...extra, responses: { ...responses, ...errors } };
}

const rates3 = { type: 'object', properties: { publish: { type: 'number' }, deliver: { type: 'number' }, ack: { type: 'number' } }, description: 'messages per second over the last sample window (5 s)' };
const args = { type: 'object', additionalProperties: true, description: 'x-arguments, as AMQP declares them' };
const retention = { type: 'object', properties: { maxAgeMs: { type: 'integer', minimum: 1 }, maxBytes: { type: 'integer', minimum: 1 } }, additionalProperties: false };

const schemas: Record<string, unknown> = {
  Overview: {
    type: 'object',
    properties: {
      version: { type: 'string' },
      uptimeSeconds: { type: 'integer' },
      rates: rates3,
      totals: {
        type: 'object',
        properties: Object.fromEntries(
          ['published', 'delivered', 'acked', 'messagesReady', 'messagesUnacked', 'queues', 'exchanges', 'topics', 'streams', 'connections', 'consumers'].map((key) => [key, { type: 'integer' }]),
        ),
      },
    },
  },
  Topic: {
    type: 'object',
    properties: { name: { type: 'string' }, displayName: { type: 'string' }, description: { type: 'string' }, retention, createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' } },
  },
  TopicCreate: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string' }, displayName: { type: 'string', maxLength: 200 }, description: { type: 'string', maxLength: 2000 }, retention },
  },
  TopicPatch: {
    type: 'object',
    additionalProperties: false,
    properties: { displayName: { type: 'string' }, description: { type: 'string' }, retention: { oneOf: [retention, { type: 'null' }] } },
  },
  Service: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      displayName: { type: 'string', description: 'defaults to the name' },
      description: { type: 'string' },
      produces: { type: 'array', items: { type: 'string' }, description: 'topic names, sorted' },
      consumes: { type: 'array', items: { type: 'string' }, description: 'topic names, sorted; each has a queue {service}.{topic} when made by topology as code' },
    },
  },
  ServicePut: {
    type: 'object',
    additionalProperties: false,
    properties: {
      displayName: { type: 'string', maxLength: 200 },
      description: { type: 'string', maxLength: 2000 },
      produces: { type: 'array', items: { type: 'string' }, maxItems: 1000, default: [] },
      consumes: { type: 'array', items: { type: 'string' }, maxItems: 1000, default: [] },
    },
  },
  Exchange: {
    type: 'object',
    properties: { name: { type: 'string' }, type: { enum: ['direct', 'fanout', 'topic', 'headers'] }, durable: { type: 'boolean' }, autoDelete: { type: 'boolean' }, internal: { type: 'boolean' }, arguments: args },
  },
  ExchangeDeclare: {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: { type: { enum: ['direct', 'fanout', 'topic', 'headers'] }, durable: { type: 'boolean', default: true }, autoDelete: { type: 'boolean', default: false }, internal: { type: 'boolean', default: false }, arguments: args },
  },
  Queue: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      type: { enum: ['classic', 'quorum', 'stream'] },
      durable: { type: 'boolean' },
      exclusive: { type: 'boolean' },
      autoDelete: { type: 'boolean' },
      arguments: args,
      messagesReady: { type: 'integer' },
      messagesUnacked: { type: 'integer' },
      messagesInMemory: { type: 'integer', description: 'held in memory (read ahead, returned, unacked); the rest of the backlog is only in the log' },
      consumers: { type: 'integer' },
      rates: rates3,
    },
  },
  QueueDeclare: {
    type: 'object',
    additionalProperties: false,
    properties: { durable: { type: 'boolean', default: true }, autoDelete: { type: 'boolean', default: false }, arguments: args },
  },
  Binding: {
    type: 'object',
    required: ['source', 'destination'],
    additionalProperties: false,
    properties: { source: { type: 'string' }, destination: { type: 'string' }, destinationKind: { enum: ['queue', 'exchange'], default: 'queue' }, routingKey: { type: 'string', default: '' }, arguments: args },
  },
  StreamInfo: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      sizeBytes: { type: 'integer' },
      firstOffset: { type: 'integer' },
      lastOffset: { type: ['integer', 'null'] },
      messages: { type: 'integer' },
      consumerOffsets: { type: 'object', additionalProperties: { type: 'integer' } },
    },
  },
  Connection: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      protocol: { type: 'string' },
      clientId: { type: 'string' },
      user: { type: 'string' },
      remoteAddress: { type: 'string' },
      connectedAt: { type: 'string', format: 'date-time' },
      state: { type: 'string', enum: ['running', 'flow', 'blocked'], description: 'blocked: a resource alarm holds its publishes; flow: publisher flow control holds it for a congested queue' },
      channels: { type: 'integer' },
      rates: { type: 'object', properties: { publish: { type: 'number' }, deliver: { type: 'number' } } },
    },
  },
  Consumer: {
    type: 'object',
    properties: { queue: { type: 'string' }, tag: { type: 'string' }, connectionId: { type: 'integer' }, protocol: { type: 'string' }, prefetch: { type: 'integer' }, ackRequired: { type: 'boolean' } },
  },
  PeekedMessage: {
    allOf: [ref('Message'), { type: 'object', properties: { redelivered: { type: 'boolean' }, deliveryCount: { type: 'integer' } } }],
  },
};

const name = (what: string): Record<string, unknown> => pathParam('name', `${what} name`);

export const managementPaths: Record<string, Record<string, unknown>> = {
  '/api/overview': { get: op('Version, uptime, message rates and totals', { '200': json(ref('Overview')) }) },
  '/api/topics': {
    get: op('List topics', { '200': list('Topic') }),
    post: op('Create a topic', { '201': json(ref('Topic'), 'Created'), '200': json(ref('Topic'), 'The same topic exists already') }, { requestBody: body(ref('TopicCreate')) }),
  },
  '/api/topics/{name}': {
    get: op('Get a topic', { '200': json(ref('Topic')) }, { parameters: [name('Topic')] }),
    patch: op('Change display name, description or retention', { '200': json(ref('Topic')) }, { parameters: [name('Topic')], requestBody: body(ref('TopicPatch')) }),
    delete: op('Delete a topic', { '204': noContent('Deleted') }, { parameters: [name('Topic')] }),
  },
  '/api/services': { get: op('List services and the topics they produce and consume', { '200': list('Service') }) },
  '/api/services/{name}': {
    get: op('Get a service', { '200': json(ref('Service')) }, { parameters: [name('Service')] }),
    put: op(
      'Create or replace a service; every topic it names must exist (409 otherwise)',
      { '201': json(ref('Service'), 'Created'), '200': json(ref('Service'), 'Replaced'), '204': noContent('An equal service exists') },
      { parameters: [name('Service')], requestBody: body(ref('ServicePut'), false) },
    ),
    delete: op('Delete a service (its queues stay)', { '204': noContent('Deleted') }, { parameters: [name('Service')] }),
  },
  '/api/exchanges': { get: op('List exchanges', { '200': list('Exchange') }) },
  '/api/exchanges/{name}': {
    get: op('Get an exchange', { '200': json(ref('Exchange')) }, { parameters: [name('Exchange')] }),
    put: op(
      'Declare an exchange (idempotent)',
      { '201': json(ref('Exchange'), 'Created'), '204': noContent('An equal exchange exists') },
      { parameters: [name('Exchange')], requestBody: body(ref('ExchangeDeclare')) },
    ),
    delete: op('Delete an exchange', { '204': noContent('Deleted') }, { parameters: [name('Exchange'), flag('ifUnused', 'Refuse (409) when it is the source of bindings')] }),
  },
  '/api/queues': { get: op('List queues and streams', { '200': list('Queue') }) },
  '/api/queues/{name}': {
    get: op('Get a queue', { '200': json(ref('Queue')) }, { parameters: [name('Queue')] }),
    put: op(
      'Declare a queue (idempotent)',
      { '201': json(ref('Queue'), 'Created'), '204': noContent('An equivalent queue exists') },
      { parameters: [name('Queue')], requestBody: body(ref('QueueDeclare'), false) },
    ),
    delete: op('Delete a queue', { '204': noContent('Deleted') }, {
      parameters: [name('Queue'), flag('ifUnused', 'Refuse (409) when it has consumers'), flag('ifEmpty', 'Refuse (409) when it holds messages')],
    }),
  },
  '/api/queues/{name}/purge': {
    post: op('Remove every ready message', { '200': json({ type: 'object', properties: { purged: { type: 'integer' } } }) }, { parameters: [name('Queue')] }),
  },
  '/api/queues/{name}/peek': {
    get: op('Look at ready messages without consuming them', { '200': json({ type: 'object', properties: { messages: { type: 'array', items: ref('PeekedMessage') } } }) }, {
      parameters: [name('Queue'), { name: 'max', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 } }],
    }),
  },
  '/api/queues/{name}/redrive': {
    post: op(
      'Move dead letters back to the exchange and routing key of their first x-death entry',
      { '200': json({ type: 'object', properties: { moved: { type: 'integer' }, skipped: { type: 'integer', description: 'left in the queue: no origin, refused or unroutable' } } }) },
      { parameters: [name('Queue')], requestBody: body({ type: 'object', additionalProperties: false, properties: { max: { type: 'integer', minimum: 1, default: 10000 } } }, false) },
    ),
  },
  '/api/bindings': {
    get: op('List bindings', { '200': list('Binding') }),
    post: op('Bind (idempotent)', { '201': json(ref('Binding'), 'Bound'), '204': noContent('The binding existed') }, { requestBody: body(ref('Binding')) }),
    delete: op('Unbind', { '204': noContent('Unbound') }, { requestBody: body(ref('Binding')) }),
  },
  '/api/streams': { get: op('List streams', { '200': list('StreamInfo') }) },
  '/api/streams/{name}': { get: op('Get a stream', { '200': json(ref('StreamInfo')) }, { parameters: [name('Stream')] }) },
  '/api/connections': { get: op('List client connections of every protocol', { '200': list('Connection') }) },
  '/api/connections/{id}': {
    delete: op('Close a connection; the client is told as its protocol does', { '204': noContent('Closing') }, { parameters: [pathParam('id', 'Connection id')] }),
  },
  '/api/consumers': { get: op('List consumers', { '200': list('Consumer') }) },
};

/** The given document with the management paths and schemas added (paths present in both are merged). */
export function withManagementPaths(base: OpenApiDocument): OpenApiDocument {
  const paths: Record<string, unknown> = { ...base.paths };
  for (const [path, operations] of Object.entries(managementPaths)) {
    const existing = paths[path];
    paths[path] = existing !== null && typeof existing === 'object' ? { ...existing, ...operations } : operations;
  }
  const info = base.info ?? {};
  const described = typeof info['description'] === 'string' ? `${info['description']} ` : '';
  return {
    ...base,
    info: { ...info, title: 'Courier HTTP API', description: `${described}Management: see docs/management.md.` },
    paths,
    components: { ...base.components, schemas: { ...base.components?.schemas, ...schemas } },
  };
}
