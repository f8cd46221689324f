import { FakeSocket } from '../test/fakes';
import { EventStream, eventsUrl, StreamHandlers, streamUrl } from './eventStream';

function handlers() {
  return { onEvent: vi.fn(), onState: vi.fn(), onSubscribed: vi.fn(), onRefused: vi.fn() } satisfies StreamHandlers;
}

function start(h: StreamHandlers) {
  const s = new EventStream(
    { url: 'ws://h:8766/api/v1/events', token: 'tok', initialDelayMs: 1000, maxDelayMs: 4000, WebSocketImpl: FakeSocket as unknown as typeof WebSocket },
    h,
  );
  s.start();
  return s;
}

describe('EventStream', () => {
  beforeEach(() => {
    FakeSocket.reset();
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // no jitter: 0.8 + 0.5*0.4 = 1.0
  });
  afterEach(() => vi.useRealTimers());

  it('subscribes with the token as its first frame and goes live on "subscribed"', () => {
    const h = handlers();
    start(h);
    const ws = FakeSocket.latest();
    expect(ws.url).toBe('ws://h:8766/api/v1/events');
    ws.open();
    expect(ws.sent.map((f) => JSON.parse(f))).toEqual([{ type: 'subscribe', token: 'tok' }]);
    expect(h.onState).toHaveBeenLastCalledWith('connecting');
    ws.receive({ type: 'subscribed', role: 'superadmin', organization_id: null });
    expect(h.onState).toHaveBeenLastCalledWith('live');
    expect(h.onSubscribed).toHaveBeenCalledTimes(1);
  });

  it('hands events over and ignores frames it does not know', () => {
    const h = handlers();
    start(h);
    const ws = FakeSocket.latest();
    ws.open();
    const ev = { type: 'event', kind: 'status_changed', orchestrator_id: 'o1', old_value: 'inactive', new_value: 'active' };
    ws.receive(ev);
    ws.receive({ type: 'something_else' });
    ws.onmessage?.({ data: 'not json' });
    expect(h.onEvent).toHaveBeenCalledTimes(1);
    expect(h.onEvent).toHaveBeenCalledWith(ev);
  });

  it('reconnects with doubling delays capped at the maximum, and resets after a subscribe', () => {
    const h = handlers();
    start(h);
    FakeSocket.latest().drop();
    expect(h.onState).toHaveBeenLastCalledWith('down');
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(999);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2); // after 1 s
    FakeSocket.latest().drop();
    vi.advanceTimersByTime(1999);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3); // after 2 s
    FakeSocket.latest().drop();
    vi.advanceTimersByTime(4000);
    expect(FakeSocket.instances).toHaveLength(4); // after 4 s
    FakeSocket.latest().drop();
    vi.advanceTimersByTime(4000);
    expect(FakeSocket.instances).toHaveLength(5); // capped at 4 s
    const ws = FakeSocket.latest();
    ws.open();
    ws.receive({ type: 'subscribed' });
    expect(h.onSubscribed).toHaveBeenCalledTimes(1);
    ws.drop();
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.instances).toHaveLength(6); // back to 1 s
  });

  it('reports a 1008 close as a refused token', () => {
    const h = handlers();
    start(h);
    FakeSocket.latest().drop(1008);
    expect(h.onRefused).toHaveBeenCalledTimes(1);
  });

  it('stops for good on stop()', () => {
    const h = handlers();
    const s = start(h);
    const ws = FakeSocket.latest();
    s.stop();
    expect(ws.closed).toBe(true);
    ws.drop();
    vi.advanceTimersByTime(60000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('EventStream defaults', () => {
  it('uses the browser WebSocket when none is given (even as undefined)', () => {
    const Native = vi.fn(function (this: { url: string; close: () => void }, url: string) {
      this.url = url;
      this.close = () => undefined;
    });
    vi.stubGlobal('WebSocket', Native);
    try {
      const s = new EventStream({ url: 'ws://h:1/e', token: 't', WebSocketImpl: undefined }, handlers());
      s.start();
      expect(Native).toHaveBeenCalledWith('ws://h:1/e');
      s.stop();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('eventsUrl', () => {
  it('uses the page host, the given port and path', () => {
    expect(eventsUrl('ctl.example', false, 8766, '/api/v1/events')).toBe('ws://ctl.example:8766/api/v1/events');
    expect(eventsUrl('ctl.example', true, 443, 'events')).toBe('wss://ctl.example:443/events');
    expect(eventsUrl('::1', false, 8766, '/e')).toBe('ws://[::1]:8766/e');
  });
});

describe('streamUrl', () => {
  const config = { ws_port: 8766, rest_port: 8765, events_path: '/api/v1/events', poll_interval_ms: 10000 };
  const page = (url: string) => {
    const u = new URL(url);
    return { protocol: u.protocol, hostname: u.hostname, host: u.host, port: u.port };
  };

  it('dials the WebSocket port when the page came straight from the REST port', () => {
    expect(streamUrl(page('http://ctl.example:8765/fleet'), config)).toBe('ws://ctl.example:8766/api/v1/events');
  });

  it('stays on the page origin behind a reverse proxy', () => {
    expect(streamUrl(page('http://localhost:8080/'), config)).toBe('ws://localhost:8080/api/v1/events');
    expect(streamUrl(page('https://moolai.example/'), config)).toBe('wss://moolai.example/api/v1/events');
    expect(streamUrl(page('http://moolai.example/'), config)).toBe('ws://moolai.example/api/v1/events');
  });

  it('takes the configured public URL over both', () => {
    expect(
      streamUrl(page('http://localhost:8765/'), { ...config, events_url: 'wss://live.example/events' }),
    ).toBe('wss://live.example/events');
  });

  it('falls back to the WebSocket port when the controller does not say its REST port', () => {
    const { rest_port: _ignored, ...older } = config;
    expect(streamUrl(page('http://localhost:8080/'), older)).toBe('ws://localhost:8766/api/v1/events');
  });
});
