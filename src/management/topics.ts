import { BrokerError } from '../core/errors.js';
import type { TopicRecord } from '../core/ports.js';
import type { CreateTopicInput } from '../core/topics/topic-registry.js';
import { sendJson } from '../transport/http/problem.js';
import { readJsonBody } from './body.js';
import type { ManagementRequest } from './route-types.js';
import { topicView } from './views.js';

function retentionKey(retention: unknown): string {
  if (retention === undefined || retention === null || typeof retention !== 'object') return 'none';
  const { maxAgeMs, maxBytes } = retention as Record<string, unknown>;
  return JSON.stringify([maxAgeMs ?? null, maxBytes ?? null]);
}

/** Whether a create request asks for exactly the topic that exists (defaults applied as create does). */
function sameTopic(existing: TopicRecord, body: Record<string, unknown>): boolean {
  return (
    (body['displayName'] ?? existing.name) === existing.displayName &&
    (body['description'] ?? '') === existing.description &&
    retentionKey(body['retention']) === retentionKey(existing.retention)
  );
}

export function listTopics(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.topics.list().map(topicView));
}

export function getTopic(api: ManagementRequest, name: string): void {
  sendJson(api.response, 200, topicView(api.broker.topics.require(name)));
}

/** POST /api/topics: 201 created; 200 when the same topic exists (idempotent); 409 when it differs. */
export async function createTopic(api: ManagementRequest): Promise<void> {
  const body = await readJsonBody(api);
  const name = body['name'];
  const existing = typeof name === 'string' ? api.broker.topics.get(name) : undefined;
  if (existing) {
    api.broker.authorize(api.principal, 'configure', { kind: 'topic', name: existing.name });
    if (!sameTopic(existing, body)) {
      throw new BrokerError('TOPIC_EXISTS', `topic '${existing.name}' exists with other attributes; PATCH it to change them`, { name: existing.name });
    }
    sendJson(api.response, 200, topicView(existing));
    return;
  }
  // The registry checks every field (unknown ones included) and the name.
  const topic = await api.broker.createTopic(api.principal, body as unknown as CreateTopicInput);
  sendJson(api.response, 201, topicView(topic), { location: `/api/topics/${encodeURIComponent(topic.name)}` });
}

export async function updateTopic(api: ManagementRequest, name: string): Promise<void> {
  const body = await readJsonBody(api);
  const topic = await api.broker.updateTopic(api.principal, name, body);
  sendJson(api.response, 200, topicView(topic));
}

export async function deleteTopic(api: ManagementRequest, name: string): Promise<void> {
  await api.broker.deleteTopic(api.principal, name);
  api.response.writeHead(204).end();
}
