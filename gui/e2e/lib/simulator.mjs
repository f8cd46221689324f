// The project's moolai-orchestrator-sim, when it is built next to the
// controller: provisions an organization's orchestrators over REST and runs
// them; its log lines (e.g. "sim-00001: stop_monitoring (...)") are kept.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function simulatorPath(binDir) {
  const p = process.env.MOOLAI_SIM_PATH || resolve(binDir, 'moolai-orchestrator-sim');
  return existsSync(p) ? p : null;
}

export function startSimulator({ bin, apiUrl, wsUrl, username, password, organization, count, prefix }) {
  const dir = mkdtempSync(join(tmpdir(), 'moolai-e2e-sim-'));
  const args = [
    '--provision',
    '--api', apiUrl,
    '--url', wsUrl,
    '--username', username,
    '--password', password,
    '--organization', organization,
    '--count', String(count),
    '--id-prefix', prefix,
    '--credentials-out', join(dir, 'credentials'),
    '--heartbeat-interval', '1',
    '--usage-interval', '1',
    '--stats-interval', '1',
    '--seed', '7',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (c) => {
    text += c.toString();
    if (text.length > 1_000_000) text = text.slice(-500_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  return {
    log: () => text,
    /** Resolves when a log line matches. */
    async waitForLine(re, timeoutMs = 10000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if (re.test(text)) return;
        if (exited) throw new Error(`simulator exited (${JSON.stringify(exited)}):\n${text.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`simulator: no line matching ${re} in ${timeoutMs} ms:\n${text.slice(-3000)}`);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t0 = Date.now();
        while (!exited && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
