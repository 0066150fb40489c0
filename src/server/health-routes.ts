import type { HttpRoute } from './http-router.js';
import { sendJson } from '../transport/http/problem.js';

export type ServerState = 'starting' | 'ready' | 'stopping';

/**
 * /healthz: the process is alive and serving HTTP. /readyz: the broker is open and clients may connect;
 * 503 while starting (recovery can take a while) or stopping, so load balancers drain in time.
 */
export function healthRoutes(state: () => ServerState): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      handle: ({ response }) => sendJson(response, 200, { status: 'ok' }),
    },
    {
      method: 'GET',
      path: '/readyz',
      handle: ({ response }) => {
        const current = state();
        sendJson(response, current === 'ready' ? 200 : 503, { status: current });
      },
    },
  ];
}
