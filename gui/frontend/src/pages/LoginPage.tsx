import { FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { useSession } from '../auth/session';

interface Problem {
  text: string;
  /** Seconds until the throttle lets this user try again. */
  retryInSec?: number;
}

function problemFrom(e: unknown): Problem {
  if (e instanceof ApiError) {
    if (e.status === 401) return { text: 'Invalid username or password.' };
    if (e.status === 429) {
      const wait = e.retryAfterSec ?? 60;
      return { text: 'Too many failed sign-in attempts from this address.', retryInSec: wait };
    }
    return { text: e.message || `Sign-in failed (${e.status}).` };
  }
  return { text: 'Sign-in failed.' };
}

/** "45 s", "15 min", "2 min 5 s": the throttle's wait, readable. */
export function waitText(sec: number): string {
  if (sec < 60) return `${sec} s`;
  const m = Math.floor(sec / 60);
  const s = sec % 60;
  return s ? `${m} min ${s} s` : `${m} min`;
}

export function LoginPage() {
  const { signIn, api, endReason } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [retryIn, setRetryIn] = useState(0);
  // Fields left empty at the last submit: marked invalid, the first one focused.
  const [missing, setMissing] = useState<{ username: boolean; password: boolean }>({ username: false, password: false });
  const userRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Moolai Controller';
  }, []);

  // Count the throttle down so the user sees when to try again.
  useEffect(() => {
    if (retryIn <= 0) return;
    const t = setTimeout(() => setRetryIn((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [retryIn]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) {
      const m = { username: !username, password: !password };
      setMissing(m);
      setProblem({ text: m.username && m.password ? 'Enter your username and password.' : m.username ? 'Enter your username.' : 'Enter your password.' });
      (m.username ? userRef : passRef).current?.focus();
      return;
    }
    setMissing({ username: false, password: false });
    setBusy(true);
    setProblem(null);
    try {
      const user = await api.login(username, password);
      // The /login route sends a signed-in user on to where they were going.
      signIn(user);
    } catch (err) {
      const p = problemFrom(err);
      setProblem(p);
      setRetryIn(p.retryInSec ?? 0);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  const throttled = retryIn > 0;
  return (
    <main id="main" className="login">
      <form className="card login-card" onSubmit={submit} noValidate aria-describedby="login-help">
        <h1>Moolai Controller</h1>
        <p id="login-help" className="muted">
          Sign in to manage your orchestrators.
        </p>
        {endReason === 'expired' && !problem && (
          <p className="notice" role="status">
            Your session has ended. Please sign in again.
          </p>
        )}
        {problem && (
          <div className="state state-error" role="alert" id="login-error">
            <p>{problem.text}</p>
            {throttled && <p>Try again in {waitText(retryIn)}.</p>}
          </div>
        )}
        <label htmlFor="username">Username</label>
        <input
          id="username"
          name="username"
          autoComplete="username"
          ref={userRef}
          value={username}
          aria-invalid={missing.username || undefined}
          aria-describedby={problem ? 'login-error' : undefined}
          onChange={(e) => {
            setUsername(e.target.value);
            if (e.target.value) setMissing((m) => ({ ...m, username: false }));
          }}
          required
          autoFocus
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          ref={passRef}
          value={password}
          aria-invalid={missing.password || undefined}
          aria-describedby={problem ? 'login-error' : undefined}
          onChange={(e) => {
            setPassword(e.target.value);
            if (e.target.value) setMissing((m) => ({ ...m, password: false }));
          }}
          required
        />
        <button type="submit" className="btn btn-primary" disabled={busy || throttled}>
          {busy ? 'Signing in…' : throttled ? `Wait ${waitText(retryIn)}` : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
