import { performance } from 'node:perf_hooks';
import type { TrackedEvent } from '@analytics/common';
import type { VisitorSaltRepository } from 'ingestion_service/dist/repositories/visitor-salt.repository';
import { CountryLookup } from 'ingestion_service/dist/services/country.service';
import { EventEnricher, type IntakeEvent } from 'ingestion_service/dist/services/event-enrichment.service';
import { trafficSourceOf, utmTagsOfPath } from 'ingestion_service/dist/services/traffic-source.service';
import { isBotAgent, userAgentTraits } from 'ingestion_service/dist/services/user-agent.service';
import { VisitorSalts } from 'ingestion_service/dist/services/visitor-salt.service';
import { anonymousVisitor } from 'ingestion_service/dist/services/visitor-id.service';

/**
 * `npm run build && node bench/dist/tools/enrichment-micro.js`: the CPU cost per event of ingestion's
 * enrichment, step by step and whole (EventEnricher.enrich, salts cached as after a date's first event),
 * in microseconds. A rough figure for one core, not a benchmark of the service.
 */
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const IPS = ['81.2.69.142', '8.8.8.8', '2a00:1450:4001:82a::200e', '151.101.1.69', '2001:4860:4860::8888'];

function measure(name: string, iterations: number, step: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(iterations, 5000); i += 1) step(i); // warm up
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) step(i);
  const micros = ((performance.now() - started) * 1000) / iterations;
  console.log(`${name.padEnd(58)} ${micros.toFixed(2).padStart(8)} µs/event`);
}

async function main(): Promise<void> {
  const countries = await CountryLookup.open();
  const n = 100_000;
  measure('user agent, repeated (memo hit)', n, (i) => userAgentTraits(AGENTS[i % AGENTS.length]));
  measure('user agent, each new (bowser parse)', 20_000, (i) => userAgentTraits(`${AGENTS[i % 4]} r/${i}`));
  measure('bot check (isbot)', n, (i) => isBotAgent(AGENTS[i % AGENTS.length]));
  measure('country (maxmind)', n, (i) => countries.countryOf(IPS[i % IPS.length]));
  measure('referrer, source and UTM tags', n, (i) =>
    trafficSourceOf('https://www.google.com/search?q=x', utmTagsOfPath(`/p${i}?utm_source=news`), [
      'shop.example',
    ]),
  );
  measure('anonymous visitor (HMAC-SHA-256)', n, (i) =>
    anonymousVisitor('salt', 'shop', IPS[i % IPS.length]!, AGENTS[i % AGENTS.length]!),
  );

  const repository = {
    claim: async (_date: string, candidate: string) => candidate,
  } as unknown as VisitorSaltRepository;
  const enricher = new EventEnricher({
    countries,
    salts: new VisitorSalts(repository, 7 * 86_400_000),
    siteSettings: { timezoneOf: () => 'Europe/Berlin', domainsOf: () => ['shop.example'] },
  });
  const now = new Date();
  const input = (i: number): IntakeEvent => {
    const event: TrackedEvent = {
      site_id: 'shop',
      event_id: `e${i}`,
      event_type: 'page_view',
      path: `/p${i % 50}`,
      timestamp: now.toISOString(),
    };
    return { event, path: `/p${i % 50}?utm_source=news`, referrer: 'https://www.google.com/search?q=x' };
  };
  const request = (i: number) => ({
    clientIp: IPS[i % IPS.length],
    userAgent: AGENTS[i % AGENTS.length],
    fromBrowser: true,
    receivedAt: now,
  });
  for (let i = 0; i < 5000; i += 1) await enricher.enrich('shop', [input(i)], request(i));
  const started = performance.now();
  for (let i = 0; i < n; i += 1) await enricher.enrich('shop', [input(i)], request(i));
  const micros = ((performance.now() - started) * 1000) / n;
  console.log(
    `${'whole enrichment of a one-event request (EventEnricher)'.padEnd(58)} ${micros.toFixed(2).padStart(8)} µs/event`,
  );
}

void main();
