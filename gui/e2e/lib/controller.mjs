// Starts a real moolai-controller on free loopback ports with a throwaway
// data directory, serving the built dashboard, and stops it afterwards.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startController({ binDir, dashboardDir, heartbeatTtlSec = 3, username, password, extraEnv = {} }) {
  const bin = resolve(binDir, 'moolai-controller');
  if (!existsSync(bin)) throw new Error(`no controller at ${bin}: build it (target moolai_bundle) or set MOOLAI_BIN_DIR`);
  if (!existsSync(join(dashboardDir, 'index.html'))) throw new Error(`no dashboard build in ${dashboardDir}: run gui/build.sh`);
  const restPort = await freePort();
  // The kernel may hand the same free port out twice in a row.
  let wsPort = await freePort();
  while (wsPort === restPort) wsPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'moolai-e2e-'));
  const env = {
    ...process.env,
    CONTROLLER_HOST: '127.0.0.1',
    CONTROLLER_PORT: String(restPort),
    CONTROLLER_WS_PORT: String(wsPort),
    HEARTBEAT_TTL_SEC: String(heartbeatTtlSec),
    HEARTBEAT_INTERVAL_SEC: '1',
    MOOLAI_DATA_DIR: dataDir,
    MOOLAI_SUPERADMIN_USERNAME: username,
    MOOLAI_SUPERADMIN_PASSWORD: password,
    // Both names: MOOLAI_STATIC_DIR is what the host reads today.
    MOOLAI_STATIC_DIR: dashboardDir,
    MOOLAI_DASHBOARD_DIR: dashboardDir,
    MOOLAI_LOG_LEVEL: 'info',
  };
  delete env.DATABASE_HOST; // the embedded SQLite default, unless extraEnv names a database
  delete env.DEV_BEARER_TOKEN;
  Object.assign(env, extraEnv);
  const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const keep = (chunk) => {
    log.push(chunk.toString());
    if (log.length > 2000) log.splice(0, log.length - 2000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const baseUrl = `http://127.0.0.1:${restPort}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (exited) throw new Error(`controller exited early (${JSON.stringify(exited)}):\n${log.join('')}`);
    try {
      const r = await fetch(`${baseUrl}/api/v1/controller/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`controller did not answer /health in 20 s:\n${log.join('')}`);
    }
    await sleep(100);
  }

  return {
    baseUrl,
    restPort,
    wsPort,
    wsUrl: `ws://127.0.0.1:${wsPort}/ws`,
    log: () => log.join(''),
    /** Sends `signal` and returns at once (e.g. SIGKILL: a host that dies). */
    kill(signal) {
      if (!exited) child.kill(signal);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 10000) await sleep(50);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tiny REST client for setting the scene (what an admin script would do). */
export class Rest {
  constructor(baseUrl, token = null) {
    this.baseUrl = baseUrl;
    this.token = token;
  }
  async call(method, path, body) {
    const r = await fetch(this.baseUrl + path, {
      method,
      headers: {
        'Content-Type': 'application/json',
        ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status}: ${text}`);
    return json;
  }
  static async login(baseUrl, username, password) {
    const r = await new Rest(baseUrl).call('POST', '/api/v1/internal/auth/login', { username, password });
    return new Rest(baseUrl, r.user.token);
  }
}
