/** `/health` (liveness: 200 once the server accepts requests) and `/metrics` (Prometheus), on every listener. */
import type { Route, ServeContext } from './types.js';

export function healthRoutes(context: ServeContext): Route[] {
  return [
    {
      path: '/health',
      methods: ['GET', 'HEAD'],
      endpoint: 'health',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"status":"ok"}' }),
    },
    {
      path: '/metrics',
      methods: ['GET'],
      endpoint: 'metrics',
      handler: async () => ({ status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }, body: context.metrics.render() }),
    },
  ];
}
