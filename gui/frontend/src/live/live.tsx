// Live updates for every page: the event stream when the controller offers
// one, polling every poll_interval_ms while it is down or absent.
import { createContext, ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { DEFAULT_UI_CONFIG } from '../api/endpoints';
import type { UiConfig } from '../api/types';
import { useSession } from '../auth/session';
import { EventStream, LiveEvent, StreamState, streamUrl } from './eventStream';

export type LiveMode = 'starting' | 'live' | 'reconnecting' | 'polling';

type Listener = (e: LiveEvent) => void;

interface LiveValue {
  mode: LiveMode;
  pollIntervalMs: number;
  /** Bumped on every (re)subscribe; pages refetch when it changes. */
  generation: number;
  /** The latest events (newest first), for the overview's recent changes. */
  recent: LiveEvent[];
  addListener: (l: Listener) => () => void;
  /** ui-config as the controller answered it (null before, or without one). */
  config: UiConfig | null;
}

const RECENT_LIMIT = 50;

const LiveContext = createContext<LiveValue | null>(null);

export interface LiveProviderProps {
  children: ReactNode;
  WebSocketImpl?: typeof WebSocket;
}

export function LiveProvider({ children, WebSocketImpl }: LiveProviderProps) {
  const { user, api } = useSession();
  const [config, setConfig] = useState<UiConfig | null>(null);
  // null until ui-config answers; false when the controller has no event stream.
  const [streamOffered, setStreamOffered] = useState<boolean | null>(null);
  const [streamState, setStreamState] = useState<StreamState>('connecting');
  const [generation, setGeneration] = useState(0);
  const [recent, setRecent] = useState<LiveEvent[]>([]);
  const listeners = useRef(new Set<Listener>());
  const token = user?.token ?? null;

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    api
      .uiConfig()
      .then((cfg) => {
        if (cancelled) return;
        setConfig(cfg ?? DEFAULT_UI_CONFIG);
        setStreamOffered(cfg !== null);
      })
      .catch(() => {
        if (!cancelled) {
          setConfig(DEFAULT_UI_CONFIG);
          setStreamOffered(false);
        }
      });
    return () => {
      cancelled = true;
    };
  }, [api, token]);

  useEffect(() => {
    if (!token || !config || !streamOffered) return;
    const url = streamUrl(window.location, config);
    const stream = new EventStream(
      { url, token, WebSocketImpl },
      {
        onEvent: (e) => {
          setRecent((r) => [e, ...r].slice(0, RECENT_LIMIT));
          listeners.current.forEach((l) => l(e));
        },
        onState: setStreamState,
        onSubscribed: () => setGeneration((g) => g + 1),
        // 1008: ask the REST side whether the session is still good; a 401
        // there ends it (the client's onUnauthorized), else keep retrying.
        onRefused: () => {
          api.uiConfig().catch(() => undefined);
        },
      },
    );
    stream.start();
    return () => stream.stop();
  }, [token, config, streamOffered, WebSocketImpl, api]);

  const addListener = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);

  const mode: LiveMode =
    streamOffered === null
      ? 'starting'
      : !streamOffered
        ? 'polling'
        : streamState === 'live'
          ? 'live'
          : generation === 0 && streamState === 'connecting'
            ? 'starting'
            : 'reconnecting';

  const value = useMemo(
    () => ({
      mode,
      pollIntervalMs: config?.poll_interval_ms ?? DEFAULT_UI_CONFIG.poll_interval_ms,
      generation,
      recent,
      addListener,
      config,
    }),
    [mode, config, generation, recent, addListener],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveValue {
  const v = useContext(LiveContext);
  if (!v) throw new Error('useLive outside LiveProvider');
  return v;
}

/** Calls `handler` for every live event while mounted. */
export function useLiveEvents(handler: Listener): void {
  const { addListener } = useLive();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => addListener((e) => ref.current(e)), [addListener]);
}
