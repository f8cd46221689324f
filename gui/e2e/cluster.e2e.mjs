// End-to-end: two controller hosts on one PostgreSQL (scripts/with-postgres.sh
// provides it), each serving the dashboard, driven in Chromium. An
// orchestrator connects to host A; operators work on both. What one host's
// dashboard does reaches the orchestrator on the other, every dashboard shows
// what happened wherever it happened, and when A is killed B's dashboard shows
// the host gone and its orchestrator inactive, without a reload.
//   DATABASE_HOST ...   the shared database; without it the suite is skipped,
//                       or fails when MOOLAI_REQUIRE_PG=1 (CI)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { axeViolations } from './lib/axe.mjs';
import { Rest, startController } from './lib/controller.mjs';
import { SimOrchestrator } from './lib/orchestrator.mjs';
import { row, settled, signInAt, waitLive } from './lib/page.mjs';
import { ADMIN, DESKTOP, PUSH_MS, binDir, dashboardDir, launchBrowser, outDir } from './lib/settings.mjs';


const database = process.env.DATABASE_HOST;
if (!database && process.env.MOOLAI_REQUIRE_PG === '1')
  throw new Error('MOOLAI_REQUIRE_PG=1 but DATABASE_HOST is unset: run gui/test.sh through scripts/with-postgres.sh');
const skip = database ? false : 'DATABASE_HOST unset: run through scripts/with-postgres.sh';

let a; // host-a: holds the orchestrator
let b; // host-b
let browser;
let sim;

const shot = (page, name) => page.screenshot({ path: resolve(outDir, `${name}.png`), fullPage: true });

// Each host on the shared database; a short lease and TTL so a death shows fast.
const host = (id) =>
  startController({
    binDir,
    dashboardDir,
    heartbeatTtlSec: 3,
    ...ADMIN,
    extraEnv: { DATABASE_HOST: database, MOOLAI_HOST_ID: id, MOOLAI_CLUSTER_LEASE_SEC: '3' },
  });

/** A signed-in page on `ctl`'s own dashboard (each host is its own origin). */
async function pageOn(ctl) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await signInAt(page, ADMIN, ctl.baseUrl, (p) => shot(p, `failed-sign-in-${ctl.restPort}`));
  return page;
}

async function setIndependent(page, ctl, on) {
  await page.goto(`${ctl.baseUrl}/orchestrators/edge-1`);
  await settled(page);
  const toggle = page.getByRole('switch', { name: 'Operate independently' });
  assert.equal(await toggle.getAttribute('aria-checked'), on ? 'false' : 'true');
  await toggle.click();
  if (on)
    await page.getByRole('dialog', { name: 'Make this orchestrator independent?' }).getByRole('button', { name: 'Make independent' }).click();
  else await page.getByRole('dialog', { name: 'Resume monitoring?' }).getByRole('button', { name: 'Resume monitoring' }).click();
}

before(async () => {
  if (skip) return;
  mkdirSync(outDir, { recursive: true });
  a = await host('host-a');
  b = await host('host-b');
  const admin = await Rest.login(a.baseUrl, ADMIN.username, ADMIN.password);
  await admin.call('POST', '/api/v1/internal/organizations', { organization_id: 'acme', name: 'Acme Corp', location: 'Berlin' });
  const made = await admin.call('POST', '/api/v1/internal/orchestrators', { orchestrator_id: 'edge-1', organization_id: 'acme', name: 'edge-1' });
  sim = new SimOrchestrator({ wsUrl: a.wsUrl, orchestratorId: 'edge-1', organizationId: 'acme', token: made.data.token });
  await sim.connect();
  browser = await launchBrowser();
});

after(async () => {
  sim?.close();
  await browser?.close();
  await a?.stop();
  await b?.stop();
});

describe('two hosts on one PostgreSQL', { concurrency: false, skip }, () => {
  it('either dashboard reaches the orchestrator on the other host, every dashboard sees it, and a killed host shows', async () => {
    // B's cluster page lists both hosts, alive, one leader, A holding the orchestrator.
    const cluster = await pageOn(b);
    await cluster.goto(`${b.baseUrl}/cluster`);
    await settled(cluster);
    const hostRow = (id) => cluster.locator(`tr[data-host="${id}"]`);
    await hostRow('host-a').waitFor();
    await hostRow('host-b').waitFor();
    await cluster.getByTestId('cluster-hosts').filter({ hasText: '2 (2 alive)' }).waitFor();
    assert.equal(await hostRow('host-a').locator('.badge').textContent(), 'alive');
    assert.equal(await hostRow('host-b').locator('.badge').textContent(), 'alive');
    assert.ok((await hostRow('host-b').locator('.tag').allTextContents()).includes('this host'));
    const leaders = await cluster.locator('tr[data-host] .tag', { hasText: 'leader' }).count();
    assert.equal(leaders, 1, 'exactly one leader');
    // The connected count comes from the holder's lease: A holds edge-1.
    await cluster.waitForFunction(
      () => document.querySelector('tr[data-host="host-a"] td.num')?.textContent.trim() === '1',
      null,
      { timeout: 15000 },
    );
    const axe = await axeViolations(cluster);
    assert.deepEqual(axe, [], `cluster page with two hosts: ${JSON.stringify(axe, null, 2)}`);
    await shot(cluster, 'cluster-two-hosts');

    // Fleet lists on both hosts, live.
    const listOnA = await pageOn(a);
    const listOnB = await pageOn(b);
    for (const [page, ctl] of [
      [listOnA, a],
      [listOnB, b],
    ]) {
      await page.goto(`${ctl.baseUrl}/orchestrators`);
      await row(page, 'edge-1').locator('.badge', { hasText: 'active (heartbeat)' }).waitFor();
      await waitLive(page);
      await page.evaluate(() => {
        window.__e2eMark = 'still here';
      });
    }

    // Made independent on B: A sends stop_monitoring; both lists change.
    const onB = await pageOn(b);
    await setIndependent(onB, b, true);
    const stop = await sim.waitFor((f) => f.type === 'stop_monitoring');
    assert.equal(stop.orchestrator_id, 'edge-1');
    for (const page of [listOnA, listOnB])
      await row(page, 'edge-1').locator('.badge', { hasText: 'independent' }).waitFor({ timeout: PUSH_MS });

    // Monitoring resumed on A: the orchestrator gets config_update; B's list follows.
    const onA = await pageOn(a);
    await setIndependent(onA, a, false);
    await sim.waitFor((f) => f.type === 'config_update');
    for (const page of [listOnA, listOnB])
      await row(page, 'edge-1').locator('.badge', { hasText: 'active (heartbeat)' }).waitFor({ timeout: PUSH_MS });

    // A is killed: B's dashboard shows the host gone and, once its lease and
    // the TTL have passed, edge-1 inactive, decided by B, without a reload.
    a.kill('SIGKILL');
    await row(listOnB, 'edge-1').locator('.badge', { hasText: 'inactive' }).waitFor({ timeout: 20000 });
    await cluster.getByTestId('cluster-hosts').filter({ hasText: '2 (1 alive)' }).waitFor({ timeout: 20000 });
    assert.equal(await hostRow('host-a').locator('.badge').textContent(), 'not alive');
    assert.deepEqual(await hostRow('host-b').locator('.tag').allTextContents(), ['leader', 'this host']);
    await shot(cluster, 'cluster-host-gone');
    assert.equal(await listOnB.evaluate(() => window.__e2eMark), 'still here', 'the page reloaded');
  });
});
