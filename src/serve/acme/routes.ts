/**
 * ACME (RFC 8555) under /acme/<provisioner>/<resource>[/<id>…]: the web front end's dispatcher. It finds
 * the provisioner and the resource's handler, and puts on every answer what RFC 8555 asks of all of them:
 * a fresh Replay-Nonce (§6.5; errors included, so a client retrying a badNonce has one), the directory
 * as `Link: rel="index"` (§7.1), and errors as application/problem+json (§6.7).
 */
import { acmeStore } from '../../store/inventory/acme.js';
import type { Route, ServeContext, ServeRequest, ServeResponse } from '../types.js';
import { account, accountOrders, keyChange, newAccount } from './accounts.js';
import { authorization, challenge, resumeProcessingChallenges } from './authorizations.js';
import { certificate, renewalInfo, revokeCert } from './certificates.js';
import type { AcmeContext, AcmeHandler, AcmeResource } from './context.js';
import { directory, newNonce } from './directory.js';
import { finalize, newOrder, order } from './orders.js';
import { AcmeProblemError } from './problem.js';

/** Nonces live 1 hour: certbot and lego fetch one per request; an hour covers a slow manual dns-01. */
export const NONCE_LIFETIME_MS = 3_600_000;

interface ResourceRoute {
  readonly handler: AcmeHandler;
  readonly methods: readonly string[];
  /** How many id segments follow the resource name. */
  readonly ids: number;
}

const RESOURCES: Readonly<Record<AcmeResource, ResourceRoute>> = {
  directory: { handler: directory, methods: ['GET'], ids: 0 },
  'new-nonce': { handler: newNonce, methods: ['HEAD', 'GET'], ids: 0 },
  'new-account': { handler: newAccount, methods: ['POST'], ids: 0 },
  'new-order': { handler: newOrder, methods: ['POST'], ids: 0 },
  'revoke-cert': { handler: revokeCert, methods: ['POST'], ids: 0 },
  'key-change': { handler: keyChange, methods: ['POST'], ids: 0 },
  'renewal-info': { handler: renewalInfo, methods: ['GET'], ids: 1 },
  account: { handler: account, methods: ['POST'], ids: 1 },
  orders: { handler: accountOrders, methods: ['POST'], ids: 1 },
  order: { handler: order, methods: ['POST'], ids: 1 },
  finalize: { handler: finalize, methods: ['POST'], ids: 1 },
  authz: { handler: authorization, methods: ['POST'], ids: 1 },
  challenge: { handler: challenge, methods: ['POST'], ids: 2 },
  certificate: { handler: certificate, methods: ['POST'], ids: 1 },
};

const ID = /^[A-Za-z0-9_.-]{1,200}$/;

function originOf(request: ServeRequest): string {
  return request.url.slice(0, request.url.length - request.path.length - (request.query ? request.query.length + 1 : 0));
}

export function problemJson(error: AcmeProblemError): ServeResponse {
  return { status: error.status, headers: { 'Content-Type': 'application/problem+json', ...error.headers }, body: JSON.stringify(error.toProblem()) };
}

async function dispatch(serve: ServeContext, request: ServeRequest): Promise<ServeResponse> {
  const [provisionerName = '', resource = '', ...ids] = request.path.slice('/acme/'.length).split('/');
  const provisioner = serve.settings.provisioners.get(provisionerName);
  if (!provisioner) throw new AcmeProblemError('malformed', `no ACME provisioner named "${provisionerName.slice(0, 40)}"`, { status: 404 });
  const route = (RESOURCES as Record<string, ResourceRoute | undefined>)[resource];
  if (!route || ids.length !== route.ids || !ids.every((id) => ID.test(id))) throw new AcmeProblemError('malformed', `no ACME resource at ${request.path.slice(0, 200)}`, { status: 404 });
  if (!route.methods.includes(request.method)) throw new AcmeProblemError('malformed', `${request.method} is not allowed here (allowed: ${route.methods.join(', ')})`, { status: 405, headers: { Allow: route.methods.join(', ') } });
  const origin = originOf(request);
  const context: AcmeContext = {
    serve,
    store: acmeStore(serve.inventory),
    provisioner,
    url: (r, ...rest) => [`${origin}/acme/${provisioner.name}/${r}`, ...rest].join('/'),
  };
  return route.handler(context, request, ids);
}

function withAcmeHeaders(serve: ServeContext, request: ServeRequest, response: ServeResponse): ServeResponse {
  const headers: Record<string, string | readonly string[]> = { ...(response.headers ?? {}) };
  const [provisionerName] = request.path.slice('/acme/'.length).split('/');
  if (provisionerName && serve.settings.provisioners.has(provisionerName)) {
    const index = `<${originOf(request)}/acme/${provisionerName}/directory>;rel="index"`;
    const link = headers['Link'];
    headers['Link'] = link === undefined ? index : [...(Array.isArray(link) ? link : [link as string]), index];
    if (request.method !== 'GET' && !('Replay-Nonce' in headers)) {
      try {
        const now = serve.now();
        headers['Replay-Nonce'] = acmeStore(serve.inventory).createNonce(now, new Date(now.getTime() + NONCE_LIFETIME_MS));
      } catch (e) {
        serve.log.event('could not make a nonce', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return { ...response, headers };
}

export function acmeRoutes(serve: ServeContext): Route[] {
  try {
    resumeProcessingChallenges(serve, acmeStore(serve.inventory)); // challenges a killed server left processing
  } catch (e) {
    serve.log.event('could not resume ACME challenges left processing', { error: e instanceof Error ? e.message : String(e) });
  }
  return [
    {
      path: '/acme/',
      methods: ['GET', 'HEAD', 'POST'],
      endpoint: 'acme',
      listeners: ['https'],
      handler: async (request) => {
        let response: ServeResponse;
        try {
          response = await dispatch(serve, request);
        } catch (e) {
          if (!(e instanceof AcmeProblemError)) throw e;
          response = problemJson(e);
        }
        // The finer label for /metrics and the access log: `acme.new-order`; a fixed word, never an id.
        const resource = request.path.split('/')[3] ?? '';
        return { ...withAcmeHeaders(serve, request, response), endpoint: Object.hasOwn(RESOURCES, resource) ? `acme.${resource}` : 'acme' };
      },
    },
  ];
}
