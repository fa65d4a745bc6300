import { isIP } from 'node:net';
import maxmind, { type Reader, type Response } from 'maxmind';
import { canonicalIp } from './visitor-id.service';

/** The MMDB shipped with `@ip-location-db/geo-whois-asn-country-mmdb` (CC0): IPv4 and IPv6. */
export const BUNDLED_COUNTRY_DB =
  require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');

/** IPv4 special-purpose ranges (RFC 6890) as [first address, prefix length]. */
const SPECIAL_IPV4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3], // multicast, reserved, broadcast
];

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

const SPECIAL_IPV4_RANGES = SPECIAL_IPV4.map(([network, prefix]) => {
  const size = 2 ** (32 - prefix);
  const first = ipv4Number(network);
  return { first, last: first + size - 1 };
});

/**
 * Special-purpose addresses have no country, although the bundled database maps some of them
 * (192.168.0.0/16, 172.16.0.0/12, 203.0.113.0/24) to the registry that holds them. A plain range check:
 * node's BlockList took a tenth of the enrichment's time.
 */
export function isSpecialPurposeAddress(ip: string, family: 4 | 6): boolean {
  if (family === 4) {
    const n = ipv4Number(ip);
    return SPECIAL_IPV4_RANGES.some(({ first, last }) => n >= first && n <= last);
  }
  if (ip === '::' || ip === '::1') return true;
  const hextets = ip.split(':');
  const first = parseInt(hextets[0] || '0', 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 || // multicast ff00::/8
    (first === 0x2001 && parseInt(hextets[1] || '0', 16) === 0xdb8) // documentation 2001:db8::/32
  );
}

/** A record of that database (MaxMind's GeoLite2-Country files answer `country.iso_code` instead). */
interface CountryRecord {
  country_code?: string;
  country?: { iso_code?: string };
}

/** IP → ISO 3166-1 alpha-2 from an MMDB file read once at start (its reader caches decoded records). */
export class CountryLookup {
  private constructor(private readonly reader: Reader<Response>) {}

  static async open(file: string = BUNDLED_COUNTRY_DB): Promise<CountryLookup> {
    return new CountryLookup(await maxmind.open(file));
  }

  /** The country of an address; undefined for private, reserved, unknown or malformed addresses. */
  countryOf(ip: string | undefined): string | undefined {
    if (ip === undefined) return undefined;
    const address = canonicalIp(ip);
    const family = isIP(address);
    if (family === 0 || isSpecialPurposeAddress(address, family === 4 ? 4 : 6)) return undefined;
    const record = this.reader.get(address) as CountryRecord | null;
    const code = record?.country_code ?? record?.country?.iso_code;
    return code !== undefined && /^[A-Z]{2}$/.test(code) ? code : undefined;
  }
}
