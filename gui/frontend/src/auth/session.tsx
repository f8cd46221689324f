// The logged-in session: token and user kept in localStorage (so a reload
// keeps you in), ended on logout, on any 401 and when the token's
// expires_at passes -- each sends you back to the login page.
import { createContext, ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient } from '../api/client';
import { Api, makeApi } from '../api/endpoints';
import type { SessionUser } from '../api/types';

const STORAGE_KEY = 'moolai.session';

export type EndReason = 'logout' | 'expired';

interface SessionValue {
  user: SessionUser | null;
  api: Api;
  /** Why the last session ended, for the login page to say so. */
  endReason: EndReason | null;
  signIn: (user: SessionUser) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

function load(): SessionUser | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const user = JSON.parse(raw) as SessionUser;
    if (!user.token || Date.parse(user.expires_at) <= Date.now()) return null;
    return user;
  } catch {
    return null;
  }
}

export function SessionProvider({ children, fetchImpl }: { children: ReactNode; fetchImpl?: typeof fetch }) {
  const [user, setUser] = useState<SessionUser | null>(load);
  const [endReason, setEndReason] = useState<EndReason | null>(null);
  // The client reads the token through a ref so it never holds a stale one.
  const tokenRef = useRef<string | null>(user?.token ?? null);

  const end = useCallback((reason: EndReason) => {
    tokenRef.current = null;
    localStorage.removeItem(STORAGE_KEY);
    setEndReason(reason);
    setUser(null);
  }, []);

  const api = useMemo(
    () =>
      makeApi(
        new ApiClient({
          getToken: () => tokenRef.current,
          onUnauthorized: () => {
            if (tokenRef.current) end('expired');
          },
          fetchImpl,
        }),
      ),
    [end, fetchImpl],
  );

  const signIn = useCallback((u: SessionUser) => {
    tokenRef.current = u.token;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(u));
    setEndReason(null);
    setUser(u);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // The token is dropped locally whatever the server says.
    }
    end('logout');
  }, [api, end]);

  // Leave when the token expires, even if no request notices it.
  useEffect(() => {
    if (!user) return;
    const ms = Date.parse(user.expires_at) - Date.now();
    if (!Number.isFinite(ms)) return;
    // setTimeout takes at most 2^31-1 ms; a longer session is re-checked later.
    const timer = setTimeout(() => {
      if (Date.parse(user.expires_at) <= Date.now()) end('expired');
    }, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [user, end]);

  const value = useMemo(() => ({ user, api, endReason, signIn, signOut }), [user, api, endReason, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The signed-in user; only for pages behind the login guard. */
export function useUser(): SessionUser {
  const { user } = useSession();
  if (!user) throw new Error('useUser without a signed-in user');
  return user;
}

export function useApi(): Api {
  return useSession().api;
}
