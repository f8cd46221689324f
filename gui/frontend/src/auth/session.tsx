// The logged-in session: token and user kept in localStorage (so a reload
// keeps you in), ended on logout, on any 401 and when the token's
// expires_at passes -- each sends you back to the login page.
//
// Why the session ended is kept in localStorage too, not only in memory: the
// document that notices the end is not always the one that shows the login
// page. A 401 can reach a page that is being left (a reload, a typed URL, a
// bookmark) and end the session there; the next document then finds no
// session and must still say that it ended.
import { createContext, ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { ApiClient } from '../api/client';
import { Api, makeApi } from '../api/endpoints';
import type { SessionUser } from '../api/types';

const STORAGE_KEY = 'moolai.session';
/** 'expired' or 'logout': how the last session in this browser ended; removed on sign-in. */
const ENDED_KEY = 'moolai.session-ended';

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

function stored(): SessionUser | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const user = JSON.parse(raw) as SessionUser;
    return user && typeof user.token === 'string' && user.token ? user : null;
  } catch {
    return null;
  }
}

interface Initial {
  user: SessionUser | null;
  endReason: EndReason | null;
}

/** What a new document starts with: the stored session if still good, else why it ended. */
function load(): Initial {
  const user = stored();
  if (user && Date.parse(user.expires_at) > Date.now()) return { user, endReason: null };
  if (user) return { user: null, endReason: 'expired' }; // its time ran out while no page watched
  let ended: string | null = null;
  try {
    ended = localStorage.getItem(ENDED_KEY);
  } catch {
    // No storage: nothing to say.
  }
  return { user: null, endReason: ended === 'expired' || ended === 'logout' ? ended : null };
}

export function SessionProvider({ children, fetchImpl }: { children: ReactNode; fetchImpl?: typeof fetch }) {
  const [initial] = useState(load);
  const [user, setUser] = useState<SessionUser | null>(initial.user);
  const [endReason, setEndReason] = useState<EndReason | null>(initial.endReason);
  // The client reads the token through a ref so it never holds a stale one.
  const tokenRef = useRef<string | null>(user?.token ?? null);

  const end = useCallback((reason: EndReason) => {
    const token = tokenRef.current;
    tokenRef.current = null;
    // Only this session is forgotten and explained: another tab may have
    // signed in since (its session is not this one to drop), or already ended
    // this one and said why (a logout there stays a logout).
    try {
      const kept = stored();
      if (kept ? kept.token === token : localStorage.getItem(ENDED_KEY) === null) {
        localStorage.removeItem(STORAGE_KEY);
        localStorage.setItem(ENDED_KEY, reason);
      }
    } catch {
      // No storage: this document still shows the login page and the reason.
    }
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
    localStorage.removeItem(ENDED_KEY);
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
