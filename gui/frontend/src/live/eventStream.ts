// The live-update stream: a WebSocket to the controller's tenant-scoped event
// feed. It subscribes with the session token, reports every event, and
// reconnects with exponential backoff when the connection drops.
import type { UiConfig } from '../api/types';

export type EventKind =
  | 'orchestrator_registered'
  | 'orchestrator_disconnected'
  | 'status_changed'
  | 'independence_changed'
  | 'message_changed'
  | 'custom';

export interface LiveEvent {
  type: 'event';
  kind: EventKind | string;
  organization_id?: string | null;
  orchestrator_id?: string | null;
  subject_id?: string | null;
  old_value?: string | null;
  new_value?: string | null;
  actor?: string | null;
  time?: string | null;
}

export type StreamState = 'connecting' | 'live' | 'down';

export interface StreamHandlers {
  onEvent: (e: LiveEvent) => void;
  onState: (s: StreamState) => void;
  /** Each successful subscribe (the first and every reconnect): what is on screen may be stale. */
  onSubscribed: () => void;
  /** The server closed with 1008 (policy): the token was refused. */
  onRefused: () => void;
}

export interface StreamOptions {
  url: string;
  token: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  WebSocketImpl?: typeof WebSocket;
}

export function eventsUrl(hostname: string, secure: boolean, wsPort: number, path: string): string {
  const host = hostname.includes(':') ? `[${hostname}]` : hostname; // IPv6 literal
  return `${secure ? 'wss' : 'ws'}://${host}:${wsPort}${path.startsWith('/') ? path : `/${path}`}`;
}

export interface PageLocation {
  protocol: string;
  hostname: string;
  host: string;
  port: string;
}

/**
 * Where the dashboard dials its live stream: the configured public URL if
 * there is one; the page's own origin when the page did not come from the
 * controller's REST port (a reverse proxy serves it, and forwards the
 * stream's path to the WebSocket port); else the WebSocket port on the
 * page's host, as when the controller is reached directly.
 */
export function streamUrl(page: PageLocation, config: UiConfig): string {
  if (config.events_url) return config.events_url;
  const secure = page.protocol === 'https:';
  const pagePort = page.port || (secure ? '443' : '80');
  if (config.rest_port !== undefined && pagePort !== String(config.rest_port)) {
    const path = config.events_path.startsWith('/') ? config.events_path : `/${config.events_path}`;
    return `${secure ? 'wss' : 'ws'}://${page.host}${path}`;
  }
  return eventsUrl(page.hostname, secure, config.ws_port, config.events_path);
}

/** Where an orchestrator connects: the WebSocket port's /ws, reached the way the page reaches the stream. */
export function orchestratorUrl(page: PageLocation, config: UiConfig): string {
  const events = streamUrl(page, config);
  const path = config.events_path.startsWith('/') ? config.events_path : `/${config.events_path}`;
  return events.endsWith(path) ? `${events.slice(0, -path.length)}/ws` : events.replace(/\/[^/]*$/, '/ws');
}

export class EventStream {
  private readonly opts: Required<Omit<StreamOptions, 'WebSocketImpl'>> & { WebSocketImpl: typeof WebSocket };
  private readonly handlers: StreamHandlers;
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;
  private stopped = false;

  constructor(opts: StreamOptions, handlers: StreamHandlers) {
    // Explicit fields, not a spread: an option passed as undefined must not
    // replace the default (the app passes WebSocketImpl only in tests).
    this.opts = {
      url: opts.url,
      token: opts.token,
      initialDelayMs: opts.initialDelayMs ?? 1000,
      maxDelayMs: opts.maxDelayMs ?? 30000,
      WebSocketImpl: opts.WebSocketImpl ?? WebSocket,
    };
    this.handlers = handlers;
    this.delay = this.opts.initialDelayMs;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.onerror = null;
      s.onopen = null;
      s.close(1000, 'leaving');
    }
  }

  private connect(): void {
    this.handlers.onState('connecting');
    let socket: WebSocket;
    try {
      socket = new this.opts.WebSocketImpl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'subscribe', token: this.opts.token }));
    };
    socket.onmessage = (m: MessageEvent) => {
      let frame: unknown;
      try {
        frame = JSON.parse(typeof m.data === 'string' ? m.data : '');
      } catch {
        return; // not ours to understand
      }
      if (!frame || typeof frame !== 'object') return;
      const f = frame as { type?: unknown };
      if (f.type === 'subscribed') {
        this.delay = this.opts.initialDelayMs;
        this.handlers.onState('live');
        this.handlers.onSubscribed();
      } else if (f.type === 'event') {
        this.handlers.onEvent(frame as LiveEvent);
      }
    };
    socket.onclose = (e: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (e.code === 1008) this.handlers.onRefused();
      this.scheduleReconnect();
    };
    // onerror is always followed by onclose, which does the work.
    socket.onerror = () => undefined;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.handlers.onState('down');
    // Jitter spreads a fleet of dashboards reconnecting after a restart.
    const wait = Math.round(this.delay * (0.8 + Math.random() * 0.4));
    this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, wait);
  }
}
