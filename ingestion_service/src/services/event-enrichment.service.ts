import {
  copyWith,
  DERIVED_EVENT_FIELDS,
  identifiedVisitor,
  type DerivedEventFields,
  type TrackedEvent,
} from '@analytics/common';
import type { EventContextInput } from '../validations/event-fields.validation';
import type { CountryLookup } from './country.service';
import { clientAddressGroup } from './rate-limit.service';
import { siteDomains, siteTimezone, type SiteSettingsView } from './site-settings.service';
import { trafficSourceOf, utmTagsOfPath } from './traffic-source.service';
import { isBotAgent, userAgentTraits } from './user-agent.service';
import type { VisitorSalts } from './visitor-salt.service';
import {
  addressRateLimitKey,
  anonymousVisitor,
  anonymousVisitorOfClientId,
  calendarDate,
} from './visitor-id.service';

/** What the HTTP request says about its sender; the IP is used here and dropped, never passed on. */
export interface RequestIdentity {
  /** `req.ip`: the socket address, or under TRUST_PROXY the address the trusted proxies report. */
  clientIp: string | undefined;
  /** The request's `User-Agent` header. */
  userAgent: string | undefined;
  /**
   * Whether the request is a browser's own (it has an `Origin` header): only then is its `User-Agent`
   * judged as a possible bot.
   */
  fromBrowser: boolean;
  receivedAt: Date;
}

/** The end user of one event, from its `context` or else the request. */
export interface EndUser {
  ip?: string;
  userAgent?: string;
  /** The agent judged by isbot: `context.user_agent`, or the request's own when a browser sent it. */
  judgedAgent?: string;
}

export function endUserOf(context: EventContextInput | undefined, request: RequestIdentity): EndUser {
  return {
    ip: context?.ip ?? request.clientIp,
    userAgent: context?.user_agent ?? request.userAgent,
    judgedAgent: context?.user_agent ?? (request.fromBrowser ? request.userAgent : undefined),
  };
}

/** An event as the intake holds it: what the client sent, and what it was normalised into. */
export interface IntakeEvent {
  referrer?: string;
  path?: string;
  context?: EventContextInput;
  /**
   * The client's own name for an anonymous visitor (Segment's `anonymousId`): it stands in for the IP and
   * user agent in the anonymous id. Ignored when the event has a `user_id`.
   */
  clientVisitorId?: string;
  event: TrackedEvent;
}

/** Everything derived for one event but the visitor (which needs the date's salt). */
export function derivedTraits(
  input: IntakeEvent,
  endUser: EndUser,
  domains: readonly string[],
  countryOf: (ip: string | undefined) => string | undefined,
): Omit<DerivedEventFields, 'visitor'> & { referrer?: string } {
  const utm = utmTagsOfPath(input.path);
  const { referrer, source } = trafficSourceOf(input.referrer, utm, domains);
  const { device, browser, os } = userAgentTraits(endUser.userAgent);
  const country = countryOf(endUser.ip);
  return { device, browser, os, country, referrer, source, ...utm };
}

/** The event with its derived fields; `referrer` replaced by its stored form (or left out). */
function withDerivedFields(
  event: TrackedEvent,
  referrer: string | undefined,
  derived: DerivedEventFields,
): TrackedEvent {
  // toTrackedEvent leaves the referrer out: only its stored form joins the event here.
  const enriched: TrackedEvent = copyWith(event, {});
  if (referrer !== undefined) enriched.referrer = referrer;
  for (const field of DERIVED_EVENT_FIELDS) {
    const value = derived[field];
    if (value !== undefined) (enriched as Record<typeof field, string>)[field] = value;
  }
  return enriched;
}

/** The answer kept in `answers` for `key`, computed once. */
function remembered<K, V>(answers: Map<K, V>, key: K, compute: () => V): V {
  if (answers.has(key)) return answers.get(key) as V;
  const answer = compute();
  answers.set(key, answer);
  return answer;
}

export interface EnrichedRequest {
  /** The events to enqueue, enriched; bots' events are left out. */
  kept: TrackedEvent[];
  bots: number;
  /** The per-address rate limit's key: a keyed hash of the client's address group. */
  addressKey: string;
}

export interface EventEnricherDeps {
  countries: CountryLookup;
  salts: VisitorSalts;
  siteSettings: SiteSettingsView;
}

/** Enrichment of a request's events at ingestion, where the request's IP and user agent are. */
export class EventEnricher {
  constructor(private readonly deps: EventEnricherDeps) {}

  async enrich(siteId: string, inputs: IntakeEvent[], request: RequestIdentity): Promise<EnrichedRequest> {
    const timezone = siteTimezone(this.deps.siteSettings, siteId);
    const domains = siteDomains(this.deps.siteSettings, siteId);
    const rateLimitDate = request.receivedAt.toISOString().slice(0, 10);
    const humans: { input: IntakeEvent; endUser: EndUser; date?: string }[] = [];
    let bots = 0;
    for (const input of inputs) {
      const endUser = endUserOf(input.context, request);
      if (isBotAgent(endUser.judgedAgent)) {
        bots += 1;
        continue;
      }
      const anonymous = input.event.user_id === undefined;
      const date = anonymous ? calendarDate(new Date(input.event.timestamp), timezone) : undefined;
      humans.push({ input, endUser, date });
    }
    const salts = await this.deps.salts.saltsFor([
      rateLimitDate,
      ...humans.flatMap(({ date }) => (date ? [date] : [])),
    ]);
    // The events of one request mostly share their sender: its country and anonymous visitor are looked
    // up and hashed once per request, not once per event (a tenth of a 100-event batch's enrichment).
    const countries = new Map<string | undefined, string | undefined>();
    const countryOf = (ip: string | undefined): string | undefined =>
      remembered(countries, ip, () => this.deps.countries.countryOf(ip));
    const anonymousVisitors = new Map<string, string>();
    // The date and the address hold no NUL (a calendar date; a validated or socket address): the key is
    // unambiguous whatever the agent holds.
    const anonymousOf = (date: string, ip: string, userAgent: string): string =>
      remembered(anonymousVisitors, `${date}\u0000${ip}\u0000${userAgent}`, () =>
        anonymousVisitor(salts.get(date)!, siteId, ip, userAgent),
      );
    const kept = humans.map(({ input, endUser, date }) => {
      const { referrer, ...traits } = derivedTraits(input, endUser, domains, countryOf);
      const visitor =
        date === undefined
          ? identifiedVisitor(input.event.user_id!)
          : input.clientVisitorId !== undefined
            ? anonymousVisitorOfClientId(salts.get(date)!, siteId, input.clientVisitorId)
            : anonymousOf(date, endUser.ip ?? '', endUser.userAgent ?? '');
      return withDerivedFields(input.event, referrer, { visitor, ...traits });
    });
    const addressKey = addressRateLimitKey(salts.get(rateLimitDate)!, clientAddressGroup(request.clientIp));
    return { kept, bots, addressKey };
  }

  /** The per-address rate limit's key alone, for requests without events to enrich (`POST /metrics`). */
  async addressKeyOf(request: RequestIdentity): Promise<string> {
    const rateLimitDate = request.receivedAt.toISOString().slice(0, 10);
    const salts = await this.deps.salts.saltsFor([rateLimitDate]);
    return addressRateLimitKey(salts.get(rateLimitDate)!, clientAddressGroup(request.clientIp));
  }
}
