/**
 * Route lookup for `pki serve`: exact paths first, then the longest matching prefix ('/acme/'). Unknown
 * paths get 404 and a wrong method 405, both as JSON problems, before any handler runs.
 */
import type { Handler, Route, ServeRequest, ServeResponse } from './types.js';

export interface RouteMatch {
  readonly route: Route | null;
  /** The endpoint label for logs and metrics ('unknown' when no route matched). */
  readonly endpoint: string;
  readonly handler: Handler;
}

export function problemResponse(status: number, type: string, detail: string, headers: Record<string, string> = {}): ServeResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type, detail, status }),
  };
}

const notFound: Handler = async (r) => problemResponse(404, 'about:blank', `no resource at ${r.path.slice(0, 200)}`);

export function createRouter(routes: readonly Route[]): (request: ServeRequest) => RouteMatch {
  const exact = new Map<string, Route>();
  const prefixes: Route[] = [];
  for (const route of routes) {
    if (route.path.endsWith('/')) prefixes.push(route);
    else exact.set(route.path, route);
  }
  prefixes.sort((a, b) => b.path.length - a.path.length);
  return (request) => {
    const route = exact.get(request.path) ?? prefixes.find((p) => request.path.startsWith(p.path)) ?? null;
    if (!route || (route.listeners && !route.listeners.includes(request.listener))) return { route: null, endpoint: 'unknown', handler: notFound };
    if (!route.methods.includes(request.method)) {
      const allow = route.methods.join(', ');
      return { route, endpoint: route.endpoint, handler: async () => problemResponse(405, 'about:blank', `${request.method} is not allowed here (allowed: ${allow})`, { Allow: allow }) };
    }
    return { route, endpoint: route.endpoint, handler: route.handler };
  };
}
