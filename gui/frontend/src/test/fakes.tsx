// Test doubles: a controller answering fetch from a route table, and a
// WebSocket the test drives by hand.
import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { App } from '../App';
import { SessionProvider } from '../auth/session';
import type { SessionUser } from '../api/types';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string>;
}

export interface FakeReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: FakeRequest) => FakeReply | unknown;

/** Routes are "METHOD /path" (path without query); an unknown route answers 404. */
export class FakeController {
  readonly calls: FakeRequest[] = [];
  private routes = new Map<string, Handler>();

  on(route: string, handler: Handler): this {
    this.routes.set(route, handler);
    return this;
  }

  callsTo(route: string): FakeRequest[] {
    return this.calls.filter((c) => `${c.method} ${c.path}` === route);
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input), 'http://dashboard.test');
    const req: FakeRequest = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      headers: (init?.headers as Record<string, string>) ?? {},
    };
    this.calls.push(req);
    const handler = this.routes.get(`${req.method} ${req.path}`);
    if (!handler) return json(404, { success: false, error: { code: 'not_found', message: 'no such resource' } });
    const out = handler(req);
    const reply: FakeReply =
      out && typeof out === 'object' && ('status' in out || 'body' in out) ? (out as FakeReply) : { status: 200, body: out };
    return json(reply.status ?? 200, reply.body ?? {}, reply.headers);
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

export class FakeSocket {
  static instances: FakeSocket[] = [];
  static reset() {
    FakeSocket.instances = [];
  }
  static latest(): FakeSocket {
    const s = FakeSocket.instances[FakeSocket.instances.length - 1];
    if (!s) throw new Error('no socket opened');
    return s;
  }

  readonly url: string;
  sent: string[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  // driven by the test:
  open() {
    this.onopen?.();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

export const superadmin: SessionUser = {
  username: 'admin',
  role: 'superadmin',
  organization_id: null,
  token: 'tok-admin',
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
};

export const orgAdmin: SessionUser = {
  username: 'alice',
  role: 'org_admin',
  organization_id: 'acme',
  token: 'tok-alice',
  expires_at: new Date(Date.now() + 3600_000).toISOString(),
};

export function signedInAs(user: SessionUser) {
  localStorage.setItem('moolai.session', JSON.stringify(user));
}

/** The whole app at `path`, talking to `api`, with live updates through FakeSocket. */
export function renderApp(api: FakeController, path: string) {
  return render(
    <MemoryRouter initialEntries={[path]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <SessionProvider fetchImpl={api.fetch}>
        <App WebSocketImpl={FakeSocket as unknown as typeof WebSocket} />
      </SessionProvider>
    </MemoryRouter>,
  );
}

export const uiConfig = { ws_port: 8766, events_path: '/api/v1/events', poll_interval_ms: 10000 };

export function page<T>(items: T[], total = items.length, pageNo = 1, size = 50) {
  return { success: true, data: { items, total, page: pageNo, page_size: size } };
}
