import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Cluster } from '../api/types';
import { FakeController, FakeReply, FakeSocket, orgAdmin, renderApp, signedInAs, superadmin, uiConfig } from '../test/fakes';
import { clusterTiming, CLUSTER_MS, shortCommit } from './ClusterPage';

const inSec = (s: number) => new Date(Date.now() + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

// Two hosts on one store: B leads, A answered (it sees B's lease and its own).
function twoHosts(): Cluster {
  return {
    enabled: true,
    host_id: 'host-a',
    leader: 'host-b',
    this_host_leads: false,
    lease_sec: 15,
    hosts: [
      {
        host_id: 'host-b',
        this_host: false,
        alive: true,
        lease_until: inSec(630),
        connected: 7,
        info: { version: '0.2.0', commit: '0123456789abcdef0123456789abcdef01234567' },
      },
      {
        host_id: 'host-a',
        this_host: true,
        alive: true,
        lease_until: inSec(630),
        connected: 12,
        info: { version: '0.2.0', commit: 'f1f25435aeac-dirty' },
      },
    ],
  };
}

function controller(answer: () => FakeReply | unknown) {
  return new FakeController()
    .on('GET /api/v1/internal/ui-config', () => uiConfig)
    .on('GET /api/v1/internal/messages', () => ({ success: true, data: [], total: 0 }))
    .on('GET /api/v1/internal/cluster', answer);
}

const hostRow = (id: string) => screen.getAllByRole('row').find((r) => r.getAttribute('data-host') === id)!;
const cellTexts = (id: string) => within(hostRow(id)).getAllByRole('cell').map((c) => c.textContent);

describe('ClusterPage', () => {
  beforeEach(() => {
    FakeSocket.reset();
    clusterTiming.ms = CLUSTER_MS;
  });

  it('shows the hosts, the leader and this host, and follows changes without a click', async () => {
    clusterTiming.ms = 100;
    signedInAs(superadmin);
    let cluster = twoHosts();
    const api = controller(() => ({ success: true, data: cluster }));
    renderApp(api, '/cluster');
    expect(await screen.findByRole('heading', { name: 'Cluster' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Cluster' })).toHaveAttribute('href', '/cluster');
    await screen.findByRole('table');
    expect(screen.getByTestId('cluster-hosts')).toHaveTextContent('2 (2 alive)');
    expect(screen.getByTestId('cluster-leader')).toHaveTextContent('host-b');
    expect(screen.getByTestId('cluster-this-host')).toHaveTextContent('host-a — does not lead');
    expect(screen.getByTestId('cluster-lease')).toHaveTextContent('15 s');
    expect(screen.queryByTestId('cluster-versions')).not.toBeInTheDocument();

    // Sorted by host id; each row's host is its header, with its marks.
    const headers = screen.getAllByRole('rowheader');
    expect(headers.map((h) => h.querySelector('code')!.textContent)).toEqual(['host-a', 'host-b']);
    expect(within(hostRow('host-a')).getByRole('rowheader')).toHaveTextContent('host-athis host');
    expect(within(hostRow('host-b')).getByRole('rowheader')).toHaveTextContent('host-bleader');
    // State in words (and its badge), version with the short commit, lease end, connected orchestrators.
    expect(cellTexts('host-a')).toEqual(['alive', '0.2.0 f1f2543-dirty', 'in 10 min', '12']);
    expect(cellTexts('host-b')).toEqual(['alive', '0.2.0 0123456', 'in 10 min', '7']);
    expect(within(hostRow('host-a')).getByText('alive')).toHaveClass('badge', 'badge-active');

    // B stops renewing its lease and A takes the lead: the page follows without a click.
    cluster = {
      ...cluster,
      leader: 'host-a',
      this_host_leads: true,
      hosts: [
        { ...cluster.hosts[0]!, alive: false, lease_until: inSec(-90), connected: 0, info: { version: '0.1.9' } },
        { ...cluster.hosts[1]!, connected: 19 },
      ],
    };
    await waitFor(() => expect(screen.getByTestId('cluster-this-host')).toHaveTextContent('host-a — leads the cluster'), { timeout: 3000 });
    expect(screen.getByTestId('cluster-hosts')).toHaveTextContent('2 (1 alive)');
    expect(within(hostRow('host-a')).getByRole('rowheader')).toHaveTextContent('host-aleaderthis host');
    expect(within(hostRow('host-b')).queryByRole('list')).not.toBeInTheDocument();
    expect(cellTexts('host-b')).toEqual(['not alive', '0.1.9', '1 min ago', '0']);
    expect(within(hostRow('host-b')).getByText('not alive')).toHaveClass('badge', 'badge-inactive');
    expect(screen.getByTestId('cluster-versions')).toHaveTextContent('The hosts run different versions: 0.2.0, 0.1.9.');
    expect(api.callsTo('GET /api/v1/internal/cluster')[0]!.headers.Authorization).toBe(`Bearer ${superadmin.token}`);
  });

  it('says clustering is off instead of a table', async () => {
    signedInAs(superadmin);
    const off: Cluster = { enabled: false, host_id: null, leader: null, this_host_leads: false, lease_sec: null, hosts: [] };
    renderApp(
      controller(() => ({ success: true, data: off })),
      '/cluster',
    );
    expect(await screen.findByText(/Clustering is off on this host/)).toHaveTextContent(
      'Clustering is off on this host (MOOLAI_CLUSTER=off): it serves alone, holds no lease and sees no other hosts.',
    );
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByTestId('cluster-leader')).not.toBeInTheDocument();
  });

  it('shows the controller’s error, and the cluster once a retry succeeds', async () => {
    signedInAs(superadmin);
    let failing = true;
    const api = controller(() =>
      failing
        ? { status: 500, body: { success: false, error: { code: 'internal', message: 'storage is not answering' } } }
        : { success: true, data: twoHosts() },
    );
    renderApp(api, '/cluster');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('storage is not answering');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    failing = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByRole('table');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByTestId('cluster-leader')).toHaveTextContent('host-b');
  });

  it('is for superadmins: an org_admin has no link to it and is told so', async () => {
    signedInAs(orgAdmin);
    const api = controller(() => ({ success: true, data: twoHosts() }));
    renderApp(api, '/cluster');
    expect(await screen.findByRole('heading', { name: 'Not allowed' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Plugins' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Cluster' })).not.toBeInTheDocument();
    expect(api.callsTo('GET /api/v1/internal/cluster')).toHaveLength(0);
  });

  it('shortens a commit as git does, keeping a suffix', () => {
    expect(shortCommit('0123456789abcdef')).toBe('0123456');
    expect(shortCommit('f1f25435aeac-dirty')).toBe('f1f2543-dirty');
    expect(shortCommit('unknown')).toBe('unknown');
    expect(shortCommit(undefined)).toBeUndefined();
  });
});
