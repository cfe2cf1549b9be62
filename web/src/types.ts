// Shapes from docs/api.md. Fields the contract leaves open are typed loosely and read defensively.

export type Tier = 'basic' | 'advanced' | 'premium';

export interface TokenSet {
  access_token: string;
  id_token?: string;
  refresh_token: string;
  token_type?: string;
  expires_in?: number;
}

export interface RegisterResult {
  user_id: string;
  tenant_id: string;
  email: string;
  role: string;
  verification_required: boolean;
}

export interface Me {
  user_id: string;
  email: string;
  tenant_id: string;
  tenant_name: string;
  subscription_tier: string;
  role: string;
  groups?: string[];
}

export interface Subscription {
  tenant_id: string;
  tenant_name: string;
  subscription_tier: string;
  plan?: Record<string, unknown>;
}

export interface UsagePeriod {
  messages: number;
  input_tokens: number;
  output_tokens: number;
  limit: number | null;
  remaining: number | null;
}

export interface HistoryPoint {
  date: string;
  messages: number;
  input_tokens: number;
  output_tokens: number;
}

export interface Usage {
  tenant_id: string;
  subscription_tier: string;
  day: UsagePeriod & { date?: string };
  month: UsagePeriod & { month?: string };
  /** Not in the contract yet: optional per-day history, used for the chart when present. */
  history?: unknown;
}

export interface SessionInfo {
  session_id: string;
  user_id?: string;
  title?: string | null;
  created_at?: string;
  last_active_at?: string;
  expires_at?: string;
  message_count?: number;
}

export interface StoredMessage {
  message_id?: string;
  role: string;
  content: unknown;
  created_at?: string;
  tool_calls?: unknown;
  [key: string]: unknown;
}

export interface ToolCallView {
  id: string;
  name: string;
  arguments: unknown;
  result?: unknown;
  isError?: boolean;
  done: boolean;
}

export interface ChatItem {
  key: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
  messageId?: string;
  createdAt?: string;
  toolCalls: ToolCallView[];
  streaming: boolean;
  deltaCount: number;
  usage?: { input_tokens?: number; output_tokens?: number };
  error?: { code: string; message: string; resetsAt?: Date | null };
  traceId?: string;
}

/** GET /api/me/approvals: a CIBA request or an agent tool call waiting for (or decided by) the user. */
export interface Approval {
  id: string;
  kind: 'ciba' | 'tool_call' | string;
  status: string;
  binding_message: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  client_id?: string;
  client_name?: string;
  scope?: string;
  authorization_details?: unknown;
  tool?: { name: string; arguments: unknown; arguments_hash: string };
  session_id?: string;
  resumed?: boolean;
  outcome?: { is_error: boolean; result: unknown; finished_at: string };
}

/** GET /api/me/connected-accounts. */
export interface ConnectedAccount {
  id: string;
  connection_id: string;
  display_name: string;
  preset: string;
  status: string;
  scope: string;
  expires_at: string | null;
  connected_at: string;
  refreshed_at: string | null;
  refreshable: boolean;
  last_error: string | null;
}

export interface AvailableConnection {
  connection_id: string;
  display_name: string;
  preset: string;
  scopes: string;
  status: string;
}

/** GET /api/tenants/{tenant_id}/connections (tenant admins). The client secret is never sent back. */
export interface Connection {
  id: string;
  display_name: string;
  preset: string;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string | null;
  client_id: string;
  client_secret_set: boolean;
  scopes: string;
  authorization_params?: Record<string, string>;
  token_endpoint_auth_method: string;
  redirect_uri: string;
  created_at: string;
  updated_at: string;
}

/** GET /api/connection-presets. */
export interface ConnectionPreset {
  name: string;
  display_name: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
  default_scopes: string;
  issuer?: string;
  authorization_params?: Record<string, string>;
  token_endpoint_auth_method?: string;
}
