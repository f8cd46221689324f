// One function per controller endpoint the dashboard uses.
import type { LiveEvent } from '../live/eventStream';
import { ApiClient, ApiError, Query } from './client';
import type {
  AuditEntry,
  Cluster,
  Costs,
  CreatedOrchestrator,
  FreshSummary,
  StatusHistory,
  LogLine,
  MessageList,
  Message,
  Orchestrator,
  Organization,
  Overview,
  Page,
  PluginList,
  SessionUser,
  UiConfig,
  User,
} from './types';

interface Envelope<T> {
  success: boolean;
  data: T;
}

const C = '/api/v1/controller';
const I = '/api/v1/internal';
const enc = encodeURIComponent;

export interface OrchestratorFilter {
  page?: number;
  page_size?: number;
  status?: string;
  organization_id?: string;
  search?: string;
  sort?: string;
  order?: string;
}

export interface AuditFilter {
  page?: number;
  page_size?: number;
  action?: string;
  actor?: string;
  orchestrator_id?: string;
  organization_id?: string;
  /** YYYY-MM-DD (UTC), inclusive. */
  from?: string;
  /** YYYY-MM-DD (UTC), exclusive. */
  to?: string;
  sort?: string;
  order?: string;
}

export const DEFAULT_UI_CONFIG: UiConfig = {
  ws_port: 8766,
  events_path: '/api/v1/events',
  poll_interval_ms: 10000,
};

export function makeApi(client: ApiClient) {
  return {
    async login(username: string, password: string): Promise<SessionUser> {
      const r = await client.request<{ user: SessionUser }>(
        'POST',
        `${I}/auth/login`,
        { username, password },
        false,
      );
      return r.user;
    },
    logout: () => client.post<unknown>(`${I}/auth/logout`, {}),

    /** The live-update settings; a controller without the endpoint gets polling only. */
    async uiConfig(): Promise<UiConfig | null> {
      try {
        const r = await client.get<UiConfig | Envelope<UiConfig>>(`${I}/ui-config`);
        const cfg = 'data' in r ? r.data : r;
        return { ...DEFAULT_UI_CONFIG, ...cfg };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },

    overview: async () => (await client.get<Envelope<Overview>>(`${C}/overview`)).data,
    organizations: async (q: Query = {}) =>
      (await client.get<Envelope<Page<Organization>>>(`${C}/organizations`, q)).data,
    organization: async (id: string) =>
      (await client.get<Envelope<Organization>>(`${C}/organizations/${enc(id)}`)).data,
    updateOrganization: async (id: string, patch: { name?: string; location?: string }) =>
      (await client.put<Envelope<Organization>>(`${I}/organizations/${enc(id)}`, patch)).data,
    deleteOrganization: (id: string) => client.delete<unknown>(`${I}/organizations/${enc(id)}`),
    createOrganization: async (org: { organization_id: string; name: string; location?: string }) =>
      (await client.post<Envelope<Organization>>(`${I}/organizations`, org)).data,

    orchestrators: async (f: OrchestratorFilter = {}) =>
      (await client.get<Envelope<Page<Orchestrator>>>(`${C}/orchestrators`, { ...f })).data,
    /** One orchestrator, or null when it does not exist or belongs to another tenant (404). */
    async orchestrator(id: string): Promise<Orchestrator | null> {
      try {
        return (await client.get<Envelope<Orchestrator>>(`${C}/orchestrators/${enc(id)}`)).data;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    /** Status, connection and last heartbeat of these orchestrators, from the controller's memory. */
    lastSeen: async (ids: string[]) =>
      (await client.get<Envelope<FreshSummary>>(`${C}/orchestrators/last-seen`, { ids: ids.join(',') })).data,
    /** Active / inactive / independent over the last hours; null from a controller without it. */
    async statusHistory(q: { hours?: number; organization_id?: string } = {}): Promise<StatusHistory | null> {
      try {
        return (await client.get<Envelope<StatusHistory>>(`${C}/status-history`, q)).data;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    createOrchestrator: async (o: { orchestrator_id: string; organization_id: string; name: string }) =>
      (await client.post<Envelope<CreatedOrchestrator>>(`${I}/orchestrators`, o)).data,
    rotateCredential: async (id: string) =>
      (await client.post<Envelope<{ orchestrator_id: string; token: string }>>(`${I}/orchestrators/${enc(id)}/credentials`, {})).data,
    /** The controller's latest events for this user (newest first); [] from a controller without the endpoint. */
    async recentEvents(limit = 50): Promise<LiveEvent[]> {
      try {
        return (await client.get<Envelope<{ items: LiveEvent[] }>>(`${I}/events`, { limit })).data.items;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return [];
        throw e;
      }
    },
    deregisterOrchestrator: (id: string) =>
      client.delete<unknown>(`${I}/orchestrators/${enc(id)}/deregister`),
    setIndependence: (id: string, isIndependent: boolean) =>
      client.put<{ is_independent: boolean }>(`${I}/orchestrators/${enc(id)}/independence`, {
        is_independent: isIndependent,
      }),

    async messages(orchestratorId: string, q: Query = {}): Promise<MessageList> {
      const r = await client.get<{ data: Message[]; total: number; sort?: string | null; order?: 'asc' | 'desc' | null }>(
        `${I}/orchestrators/${enc(orchestratorId)}/messages`,
        q,
      );
      return { items: r.data, total: r.total, sort: r.sort, order: r.order };
    },
    async allMessages(q: Query = {}): Promise<MessageList> {
      const r = await client.get<{ data: Message[]; total: number; sort?: string | null; order?: 'asc' | 'desc' | null }>(`${I}/messages`, q);
      return { items: r.data, total: r.total, sort: r.sort, order: r.order };
    },
    createMessage: (orchestratorId: string, m: { message_type: string; content: string }) =>
      client.post<{ message_id: string; data: Message }>(`${I}/orchestrators/${enc(orchestratorId)}/messages`, m),
    reviewMessage: async (id: string, status: 'accepted' | 'dismissed') =>
      (await client.put<Envelope<Message>>(`${I}/messages/${enc(id)}/status`, { status })).data,

    costs: async (q: { from?: string; to?: string; organization_id?: string; orchestrator_id?: string }) =>
      (await client.get<Envelope<Costs>>(`${C}/costs`, q)).data,

    audit: async (f: AuditFilter = {}) =>
      (await client.get<Envelope<Page<AuditEntry>>>(`${I}/audit`, { ...f })).data,

    async plugins(): Promise<PluginList> {
      const r = await client.get<{ data: { items: PluginList['items'] }; host_abi_version: string }>(
        `${I}/plugins`,
      );
      return { items: r.data.items, host_abi_version: r.host_abi_version };
    },

    users: async (q: Query = {}) => (await client.get<Envelope<Page<User>>>(`${I}/users`, q)).data,
    createUser: async (u: { username: string; password: string; role: string; organization_id?: string }) =>
      (await client.post<Envelope<User>>(`${I}/users`, u)).data,
    updateUser: async (username: string, patch: { role?: string; organization_id?: string; password?: string }) =>
      (await client.put<Envelope<User>>(`${I}/users/${enc(username)}`, patch)).data,
    deleteUser: (username: string) => client.delete<unknown>(`${I}/users/${enc(username)}`),

    /** The hosts sharing this store, as the answering host sees them (superadmin). */
    cluster: async () => (await client.get<Envelope<Cluster>>(`${I}/cluster`)).data,

    logs: async (q: { limit?: number; level?: string }) =>
      (await client.get<Envelope<{ items: LogLine[] }>>(`${I}/logs`, q)).data.items,
  };
}

export type Api = ReturnType<typeof makeApi>;
