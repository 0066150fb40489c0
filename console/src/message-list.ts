import { describeDeath, deathsOf } from './dead-letters.js';
import { h } from './dom.js';
import { previewBody } from './format.js';
import type { PeekedMessage } from './types.js';

/** Peeked messages as a list of articles: where each came from, its headers, why it died, its body. */
export function messageList(messages: readonly PeekedMessage[], label: string): HTMLElement {
  if (messages.length === 0) return h('p', { class: 'empty' }, 'No ready messages.');
  return h(
    'ol',
    { class: 'messages', 'aria-label': label },
    ...messages.map((message, index) => {
      const body = previewBody(message.body, message.contentType);
      const deaths = deathsOf(message.headers);
      const { 'x-death': _deaths, ...otherHeaders } = message.headers;
      const headerText = Object.keys(otherHeaders).length === 0 ? undefined : JSON.stringify(otherHeaders, null, 2);
      return h(
        'li',
        {},
        h(
          'article',
          { 'aria-labelledby': `message-${index}` },
          h('h3', { id: `message-${index}` }, `Message ${index + 1}`),
          h(
            'dl',
            { class: 'pairs' },
            h('dt', {}, 'Exchange'),
            h('dd', {}, message.exchange === '' ? '(default)' : message.exchange),
            h('dt', {}, 'Routing key'),
            h('dd', {}, h('code', {}, message.routingKey)),
            h('dt', {}, 'Content type'),
            h('dd', {}, message.contentType ?? '—'),
            h('dt', {}, 'Delivered before'),
            h('dd', {}, `${message.deliveryCount} time${message.deliveryCount === 1 ? '' : 's'}${message.redelivered ? ' (redelivered)' : ''}`),
            h('dt', {}, 'Persistent'),
            h('dd', {}, message.persistent ? 'yes' : 'no'),
          ),
          deaths.length === 0
            ? null
            : h(
                'div',
                { class: 'deaths' },
                h('h4', {}, 'Dead-lettered'),
                h('ul', {}, ...deaths.map((death) => h('li', { 'data-reason': death.reason }, describeDeath(death), death.time ? ` at ${death.time.toLocaleString()}` : ''))),
              ),
          headerText === undefined ? null : h('details', {}, h('summary', {}, 'Headers'), h('pre', {}, headerText)),
          h('h4', {}, `Body (${body.bytes} bytes${body.truncated ? ', cut short' : ''})`),
          h('pre', { class: body.isText ? 'body' : 'body binary' }, body.text),
        ),
      );
    }),
  );
}
