import type { HttpRoute } from './http-router.js';

/** What /metrics serves: anything that renders the Prometheus text format (the MetricsRegistry). */
export interface MetricsExposition {
  render(): string;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** /metrics for Prometheus scrapers, rendered on each request (the broker gauges are read then). */
export function metricsRoutes(exposition: MetricsExposition): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handle: ({ response }) => {
        const text = exposition.render();
        response.writeHead(200, {
          'content-type': METRICS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        response.end(text);
      },
    },
  ];
}
