/** The two endpoints the dashboard reads, with the site's read key, and what their failures mean. */

export interface QueryRow {
  dimensions: string[];
  metrics: (number | null)[];
  comparison?: { dimensions: string[]; metrics: (number | null)[]; change: (number | null)[] };
}

export interface QueryAnswer {
  results: QueryRow[];
  meta: { time_labels?: string[] };
  query: { date_range: [string, string] };
}

export interface SiteInfo {
  site_id: string;
  name?: string;
  timezone?: string;
}

export interface Credentials {
  siteId: string;
  readKey: string;
}

/** A failed request, with the sentence to show: what happened and what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The key (or the site id) is wrong: the user has to enter them again. */
  get needsSignIn(): boolean {
    return this.status === 401 || this.status === 403 || this.status === 404;
  }
}

const NOT_ANSWERING = 'Reporting is not answering; try again in a moment.';

function explain(
  status: number,
  code: string | undefined,
  serverText: string | undefined,
  retryAfter: string | null,
): string {
  switch (status) {
    case 401:
      return 'The read key was not accepted (401): check the read key and enter it again.';
    case 403:
      return 'This read key belongs to another site (403): check the site id.';
    case 404:
      return 'There is no site with this id (404): check the site id.';
    case 429: {
      const wait =
        retryAfter && /^\d+$/.test(retryAfter)
          ? `${Math.ceil(Number(retryAfter) / 60)} min`
          : 'a few minutes';
      return `Too many queries with this read key (429): wait ${wait} and try again.`;
    }
    case 400:
      return `The query was refused (400): ${serverText ?? 'bad request'}.`;
    default:
      if (status === 503 && code === 'query-timeout') {
        return 'The query took too long (503): try a shorter date range, or try again.';
      }
      return `${NOT_ANSWERING} (HTTP ${status})`;
  }
}

async function request<T>(url: string, key: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        Authorization: `Bearer ${key}`,
        Accept: 'application/json',
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, NOT_ANSWERING);
  }
  let parsed: unknown;
  try {
    parsed = await res.json();
  } catch {
    parsed = undefined;
  }
  if (!res.ok || parsed === undefined) {
    const error = (parsed ?? {}) as { code?: unknown; error?: unknown };
    throw new ApiError(
      res.status,
      explain(
        res.ok ? 502 : res.status,
        typeof error.code === 'string' ? error.code : undefined,
        typeof error.error === 'string' ? error.error : undefined,
        res.headers.get('Retry-After'),
      ),
    );
  }
  return parsed as T;
}

export function getSite(credentials: Credentials): Promise<SiteInfo> {
  return request<SiteInfo>(`/sites/${encodeURIComponent(credentials.siteId)}`, credentials.readKey);
}

export function query(credentials: Credentials, body: Record<string, unknown>): Promise<QueryAnswer> {
  return request<QueryAnswer>('/api/v2/query', credentials.readKey, { site_id: credentials.siteId, ...body });
}
