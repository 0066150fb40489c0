import { rateChart } from './chart.js';
import { h, Region } from './dom.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import type { MountedPage, PageContext } from './page.js';

export function overviewPage(context: PageContext): MountedPage {
  const { feed } = context;
  const stats = new Region(h('div', { class: 'stats' }));
  const charts = new Region(h('div', { class: 'charts' }));
  const element = h(
    'section',
    { 'aria-labelledby': 'page-heading' },
    h('h1', { id: 'page-heading', tabindex: -1 }, 'Overview'),
    stats.element,
    h('h2', {}, 'Message rates'),
    h(
      'p',
      { class: 'hint' },
      `Computed by the console from the broker's running totals, polled every few seconds; the last ${Math.round(feed.windowMs / 60_000)} minutes are kept.`,
    ),
    charts.element,
  );

  const draw = (): void => {
    const overview = feed.latest;
    if (!overview) return;
    const t = overview.totals;
    const stat = (id: string, label: string, value: string): HTMLElement =>
      h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { 'data-testid': `stat-${id}` }, value));
    stats.show(overview, () =>
      h(
        'dl',
        { class: 'stat-grid' },
        stat('version', 'Version', overview.version),
        stat('uptime', 'Uptime', formatDuration(overview.uptimeSeconds)),
        stat('published', 'Messages published', formatCount(t.published)),
        stat('delivered', 'Messages delivered', formatCount(t.delivered)),
        stat('acked', 'Messages acknowledged', formatCount(t.acked)),
        stat('ready', 'Ready in queues', formatCount(t.messagesReady)),
        stat('unacked', 'Unacknowledged', formatCount(t.messagesUnacked)),
        stat('queues', 'Queues', formatCount(t.queues)),
        stat('streams', 'Streams', formatCount(t.streams)),
        stat('topics', 'Topics', formatCount(t.topics)),
        stat('exchanges', 'Exchanges', formatCount(t.exchanges)),
        stat('connections', 'Connections', formatCount(t.connections)),
        stat('consumers', 'Consumers', formatCount(t.consumers)),
      ),
    );
    const points = feed.series.points();
    const latest = feed.series.latest();
    const now = latest?.at ?? Date.now();
    charts.show({ points, broker: overview.rates }, () => [
      h(
        'figure',
        { class: 'chart-box' },
        rateChart({ title: 'Publish rate', points, pick: (p) => p.publish, windowMs: feed.windowMs, now, lineClass: 'publish' }),
        h(
          'figcaption',
          {},
          h('strong', {}, 'Publish rate: '),
          h('span', { 'data-testid': 'rate-publish' }, latest ? formatRate(latest.publish) : 'waiting for a second sample'),
          ` (broker's 5-second rate ${formatRate(overview.rates.publish)})`,
        ),
      ),
      h(
        'figure',
        { class: 'chart-box' },
        rateChart({ title: 'Deliver rate', points, pick: (p) => p.deliver, windowMs: feed.windowMs, now, lineClass: 'deliver' }),
        h(
          'figcaption',
          {},
          h('strong', {}, 'Deliver rate: '),
          h('span', { 'data-testid': 'rate-deliver' }, latest ? formatRate(latest.deliver) : 'waiting for a second sample'),
          ` (broker's 5-second rate ${formatRate(overview.rates.deliver)})`,
        ),
      ),
    ]);
  };
  const unsubscribe = feed.subscribe(draw);
  draw();
  return {
    title: 'Overview',
    element,
    refresh: () => feed.poll(),
    dispose: unsubscribe,
  };
}
