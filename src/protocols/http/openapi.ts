/** The OpenAPI 3.1 description of the HTTP messaging API, served at GET /api/openapi.json. */

const problem = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

function pathParam(name: string, description: string): Record<string, unknown> {
  return { name, in: 'path', required: true, description, schema: { type: 'string' } };
}

function queryParam(name: string, description: string, schema: Record<string, unknown>): Record<string, unknown> {
  return { name, in: 'query', required: false, description, schema };
}

const publishHeaders = [
  { name: 'Content-Type', in: 'header', required: false, description: 'Kept as the message content type', schema: { type: 'string' } },
  { name: 'X-Courier-Persistent', in: 'header', required: false, description: 'false for a transient message (default true)', schema: { type: 'string', enum: ['true', 'false'] } },
  { name: 'X-Courier-Correlation-Id', in: 'header', required: false, schema: { type: 'string' } },
  { name: 'X-Courier-Reply-To', in: 'header', required: false, schema: { type: 'string' } },
  { name: 'X-Courier-Message-Id', in: 'header', required: false, schema: { type: 'string' } },
  { name: 'X-Courier-Expiration', in: 'header', required: false, description: 'Time to live in milliseconds', schema: { type: 'string', pattern: '^[0-9]+$' } },
];

const errors = { '400': problem, '401': problem, '403': problem, '404': problem, '413': problem, '429': problem, '503': problem };

function publishOperation(summary: string, extra: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    summary,
    description: 'Any header X-Courier-Header-<name> becomes message header <name>. Answers once the message is durable.',
    parameters: [...extra, ...publishHeaders],
    requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
    responses: {
      '201': { description: 'Stored and durable', content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishResult' } } } },
      '200': { description: 'Unroutable: no queue took the message (routed 0)', content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishResult' } } } },
      ...errors,
    },
  };
}

const settle = (summary: string, nack: boolean): Record<string, unknown> => ({
  summary,
  parameters: [pathParam('queue', 'Queue name')],
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['receiptHandles'],
          properties: {
            receiptHandles: { type: 'array', items: { type: 'string' } },
            ...(nack ? { requeue: { type: 'boolean', default: true } } : {}),
          },
        },
      },
    },
  },
  responses: {
    '200': {
      description: 'Handles settled; unknown lists handles that expired or do not exist',
      content: { 'application/json': { schema: { type: 'object', properties: { settled: { type: 'integer' }, unknown: { type: 'array', items: { type: 'string' } } } } } },
    },
    ...errors,
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Courier HTTP messaging API', version: '1', description: 'Publish, consume, events, request/reply and stream replay. The WebSocket JSON protocol at /ws (not an HTTP route, so not described here) and everything else: docs/protocols/http.md.' },
  security: [{ basic: [] }],
  paths: {
    '/api/topics/{topic}/messages': {
      post: publishOperation('Publish to amq.topic with the topic as routing key', [pathParam('topic', 'Routing key on amq.topic')]),
    },
    '/api/exchanges/{exchange}/messages': {
      post: publishOperation('Publish to an exchange', [pathParam('exchange', 'Exchange name'), queryParam('routingKey', 'Routing key (default empty)', { type: 'string' })]),
    },
    '/api/queues/{queue}/messages': {
      post: publishOperation('Publish to a queue through the default exchange', [pathParam('queue', 'Queue name')]),
      get: {
        summary: 'Receive messages (long poll); each stays invisible until acked, nacked or its visibility timeout',
        parameters: [
          pathParam('queue', 'Queue name'),
          queryParam('max', 'Messages at most', { type: 'integer', minimum: 1, maximum: 100, default: 1 }),
          queryParam('wait', 'Seconds to wait for a first message', { type: 'integer', minimum: 0, maximum: 60, default: 0 }),
          queryParam('visibility', 'Seconds before an unacked message is visible again', { type: 'integer', minimum: 1, maximum: 43200, default: 30 }),
        ],
        responses: {
          '200': {
            description: 'Messages (possibly none)',
            content: { 'application/json': { schema: { type: 'object', properties: { messages: { type: 'array', items: { $ref: '#/components/schemas/ReceivedMessage' } } } } } },
          },
          ...errors,
        },
      },
    },
    '/api/queues/{queue}/messages/ack': { post: settle('Acknowledge messages by receipt handle', false) },
    '/api/queues/{queue}/messages/nack': { post: settle('Reject messages by receipt handle (requeue by default)', true) },
    '/api/topics/{pattern}/events': {
      get: {
        summary: 'Server-sent events of messages on amq.topic matching an AMQP topic pattern',
        parameters: [pathParam('pattern', 'Binding pattern (* one word, # any; URL-encode # as %23)')],
        responses: { '200': { description: 'event: message, data: a Message as JSON', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    '/api/topics/{topic}/requests': {
      post: {
        summary: 'Request/reply: publish with a private reply queue and wait for the correlated reply',
        parameters: [pathParam('topic', 'Routing key on amq.topic'), queryParam('timeout', 'Seconds to wait', { type: 'integer', minimum: 1, maximum: 300, default: 30 }), ...publishHeaders],
        requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '200': { description: 'The reply body with its content type', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } }, '504': problem, ...errors },
      },
    },
    '/api/streams/{stream}/messages': {
      get: {
        summary: 'Replay a stream from a position',
        parameters: [
          pathParam('stream', 'Stream name'),
          queryParam('from', 'first, last, an offset or an ISO 8601 timestamp', { type: 'string', default: 'first' }),
          queryParam('max', 'Messages at most', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
          queryParam('wait', 'Seconds to wait when nothing is at the position', { type: 'integer', minimum: 0, maximum: 60, default: 1 }),
        ],
        responses: {
          '200': {
            description: 'Messages with their offsets',
            content: { 'application/json': { schema: { type: 'object', properties: { messages: { type: 'array', items: { $ref: '#/components/schemas/StreamMessage' } } } } } },
          },
          ...errors,
        },
      },
    },
    '/api/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } } },
  },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
    schemas: {
      Problem: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          code: { type: 'string', description: 'Courier error code (docs/errors.md)' },
        },
      },
      PublishResult: { type: 'object', properties: { routed: { type: 'integer' }, durable: { const: true } } },
      Message: {
        type: 'object',
        properties: {
          exchange: { type: 'string' },
          routingKey: { type: 'string' },
          body: { type: 'string', contentEncoding: 'base64' },
          contentType: { type: 'string' },
          headers: { type: 'object' },
          properties: { type: 'object' },
          persistent: { type: 'boolean' },
        },
      },
      ReceivedMessage: {
        allOf: [
          { $ref: '#/components/schemas/Message' },
          { type: 'object', properties: { receiptHandle: { type: 'string' }, redelivered: { type: 'boolean' }, deliveryCount: { type: 'integer' } } },
        ],
      },
      StreamMessage: { allOf: [{ $ref: '#/components/schemas/Message' }, { type: 'object', properties: { offset: { type: 'integer' } } }] },
    },
  },
} as const;
