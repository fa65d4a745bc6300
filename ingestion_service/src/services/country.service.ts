import { BlockList, isIP } from 'node:net';
import maxmind, { type Reader, type Response } from 'maxmind';
import { canonicalIp } from './visitor-id.service';

/** The MMDB shipped with `@ip-location-db/geo-whois-asn-country-mmdb` (CC0): IPv4 and IPv6. */
export const BUNDLED_COUNTRY_DB =
  require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');

/**
 * Special-purpose ranges (RFC 6890): no country, although the bundled database maps some of them
 * (192.168.0.0/16, 172.16.0.0/12, 203.0.113.0/24) to the registry that holds them.
 */
const SPECIAL_PURPOSE = new BlockList();
for (const [network, prefix] of [
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
  ['224.0.0.0', 3],
] as const) {
  SPECIAL_PURPOSE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['2001:db8::', 32],
  ['ff00::', 8],
] as const) {
  SPECIAL_PURPOSE.addSubnet(network, prefix, 'ipv6');
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
    if (family === 0 || SPECIAL_PURPOSE.check(address, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
    const record = this.reader.get(address) as CountryRecord | null;
    const code = record?.country_code ?? record?.country?.iso_code;
    return code !== undefined && /^[A-Z]{2}$/.test(code) ? code : undefined;
  }
}
