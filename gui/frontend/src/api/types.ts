// Shapes of the controller's REST answers (host/app/rest_*.cpp is the source of truth).

export type Role = 'superadmin' | 'org_admin';

export interface SessionUser {
  username: string;
  role: Role;
  organization_id: string | null;
  token: string;
  expires_at: string;
}

export type OrchestratorStatus = 'active' | 'inactive' | 'independent';

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
  /** The order the controller applied; null = the listing's default (also when it cannot sort). */
  sort?: string | null;
  order?: 'asc' | 'desc' | null;
}

export interface Orchestrator {
  orchestrator_id: string;
  organization_id: string;
  organization_name?: string | null;
  name?: string | null;
  location?: string | null;
  status: OrchestratorStatus;
  is_independent: boolean;
  last_seen?: string | null;
  connected?: boolean;
  metadata?: Record<string, unknown> | null;
  health_status?: string | null;
  monitoring_enabled?: boolean | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface Organization {
  organization_id: string;
  name: string;
  location?: string | null;
  status?: string | null;
  is_independent?: boolean | null;
  metadata?: Record<string, unknown> | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface Overview {
  total_organizations: number;
  active_orchestrators: number;
  inactive_orchestrators: number;
  independent_orchestrators: number;
  total_orchestrators: number;
  total_users: number | null;
  by_organization?: OrganizationCounts[];
  degraded?: boolean;
}

export interface OrganizationCounts {
  organization_id: string;
  name: string;
  active: number;
  inactive: number;
  independent: number;
  total: number;
}

/** GET /controller/orchestrators/last-seen: the in-memory truth about rows on a page. */
export interface FreshStatus {
  orchestrator_id: string;
  organization_id: string;
  status: OrchestratorStatus;
  is_independent: boolean;
  connected: boolean;
  last_seen: string | null;
}

export interface FreshSummary {
  items: FreshStatus[];
  server_time: string;
  heartbeat_ttl_sec: number;
}

export interface StatusPoint {
  time: string;
  active: number;
  inactive: number;
  independent: number;
  /** Heartbeat ack latency over the interval ending here (superadmin only; null: no ack in it). */
  ack_ms?: number | null;
  /** Its 99th percentile, estimated from the histogram's buckets. */
  ack_p99_ms?: number | null;
}

export interface StatusHistory {
  interval_sec: number;
  organization_id: string | null;
  items: StatusPoint[];
}

export type ReviewStatus = 'pending' | 'accepted' | 'dismissed';
export type DeliveryState = 'none' | 'queued' | 'sent' | 'acknowledged' | 'expired' | 'cancelled';

export interface Message {
  id: string;
  orchestrator_id: string;
  message_type: string;
  content: string;
  message_metadata?: Record<string, unknown> | null;
  status: ReviewStatus;
  delivery_state: DeliveryState;
  delivery_attempts?: number;
  delivered_at?: string | null;
  acknowledged_at?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface MessageList {
  items: Message[];
  total: number;
  sort?: string | null;
  order?: 'asc' | 'desc' | null;
}

export interface AuditEntry {
  id: number;
  time: string;
  actor: string;
  action: string;
  organization_id?: string | null;
  orchestrator_id?: string | null;
  old_value?: string | null;
  new_value?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface UsageGroup extends UsageTotals {
  key: string;
}

export interface Costs {
  from: string;
  to: string;
  total: UsageTotals;
  by_organization: UsageGroup[];
  by_orchestrator: UsageGroup[];
  by_model: UsageGroup[];
  by_day: UsageGroup[];
  /** Ranges of 48 hours or less: "YYYY-MM-DDTHH:00:00Z" keys (UTC). */
  by_hour?: UsageGroup[];
}

export interface PluginInfo {
  name: string;
  version: string;
  description?: string;
  abi_version: string;
  abi_minor_required?: string | number;
  capabilities: string[];
  threading: string;
  path?: string;
}

export interface PluginList {
  items: PluginInfo[];
  host_abi_version: string;
}

export interface User {
  username: string;
  role: Role;
  organization_id?: string | null;
  created_at?: string | null;
  /** In the answer to a change: sessions it ended; null when the controller cannot end them. */
  sessions_ended?: number | null;
}

/** GET /internal/cluster: one host with a live lease, as the answering host sees it. */
export interface ClusterHost {
  host_id: string;
  /** The host that answered. */
  this_host: boolean;
  /** Its lease has not ended, or the answering host heard from it within one lease. */
  alive: boolean;
  /** When its lease ends unless renewed. */
  lease_until: string;
  /** Orchestrators connected to it, as the answering host knows. */
  connected: number;
  /** What the host said of itself with its lease. */
  info: { version?: string; commit?: string; [k: string]: unknown };
}

export interface Cluster {
  /** false: the host serves alone (MOOLAI_CLUSTER=off). */
  enabled: boolean;
  /** The host that answered; null when alone. */
  host_id: string | null;
  /** The host holding the leader lease; null when none or alone. */
  leader: string | null;
  this_host_leads: boolean;
  /** MOOLAI_CLUSTER_LEASE_SEC; null when alone. */
  lease_sec: number | null;
  hosts: ClusterHost[];
}

export interface LogLine {
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  source: string;
  message: string;
}

export interface UiConfig {
  ws_port: number;
  events_path: string;
  poll_interval_ms: number;
  /** The controller's REST port; a page served from another port is behind a proxy. */
  rest_port?: number;
  /** MOOLAI_PUBLIC_WS_URL: where browsers reach the stream, when set. */
  events_url?: string | null;
}

export interface CreatedOrchestrator extends Orchestrator {
  token: string;
}
