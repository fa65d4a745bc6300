import { CountryLookup } from '../../src/services/country.service';

describe('CountryLookup (the bundled database)', () => {
  let countries: CountryLookup;
  beforeAll(async () => {
    countries = await CountryLookup.open();
  });
  it.each([
    ['a Google DNS IPv4', '8.8.8.8', 'US'],
    ['a UK IPv4', '81.2.69.142', 'GB'],
    ['an IPv6', '2001:4860:4860::8888', 'US'],
    ['an IPv4-mapped IPv6', '::ffff:81.2.69.142', 'GB'],
    ['loopback', '127.0.0.1', undefined],
    ['IPv6 loopback', '::1', undefined],
    ['a private address', '10.1.2.3', undefined],
    ['a private address the database maps to AU', '192.168.1.20', undefined],
    ['another the database maps to AU', '172.16.0.1', undefined],
    ['a documentation address', '198.51.100.7', undefined],
    ['a unique local IPv6', 'fd00::1', undefined],
    ['a link-local IPv6', 'fe80::1', undefined],
    ['a multicast IPv6', 'ff02::1', undefined],
    ['a documentation IPv6', '2001:db8::5', undefined],
    ['a multicast IPv4', '224.0.0.1', undefined],
    ['a shared (CGNAT) IPv4', '100.64.0.1', undefined],
    ['the last address before a private range', '172.15.255.255', 'US'],
    ['the first address after it', '172.32.0.1', 'US'],
    ['not an address', 'example.com', undefined],
    ['nothing', undefined, undefined],
  ])('when the address is %s (%s), then the country is %s', (_, ip, country) => {
    expect(countries.countryOf(ip)).toBe(country);
  });
  it('when the file does not exist, then opening fails', async () => {
    await expect(CountryLookup.open('/nonexistent/country.mmdb')).rejects.toThrow();
  });
});
