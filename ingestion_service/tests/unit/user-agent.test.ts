import { isBotAgent, userAgentTraits } from '../../src/services/user-agent.service';
import { endUserOf, type RequestIdentity } from '../../src/services/event-enrichment.service';
import { USER_AGENTS } from '../fixtures/user-agents';

describe('userAgentTraits', () => {
  it.each([
    ['desktop Chrome', { device: 'desktop', browser: 'Chrome', os: 'Windows' }, USER_AGENTS.desktopChrome],
    ['Firefox on a Mac', { device: 'desktop', browser: 'Firefox', os: 'macOS' }, USER_AGENTS.macFirefox],
    ['iPhone Safari', { device: 'mobile', browser: 'Safari', os: 'iOS' }, USER_AGENTS.iPhoneSafari],
    ['an Android phone', { device: 'mobile', browser: 'Chrome', os: 'Android' }, USER_AGENTS.androidPhone],
    ['an Android tablet', { device: 'tablet', browser: 'Chrome', os: 'Android' }, USER_AGENTS.androidTablet],
    ['an iPad', { device: 'tablet', browser: 'Safari', os: 'iOS' }, USER_AGENTS.iPad],
    ['Googlebot', { device: 'unknown', browser: 'Googlebot' }, USER_AGENTS.googlebot],
    ['curl', { device: 'unknown' }, USER_AGENTS.curl],
    ['no user agent', { device: 'unknown' }, undefined],
    ['an empty user agent', { device: 'unknown' }, ''],
  ])('when the agent is %s, then the traits are %j', (_, traits, agent) => {
    expect(userAgentTraits(agent)).toEqual(traits);
    // the second call is answered from the memo, with the same result
    expect(userAgentTraits(agent)).toEqual(traits);
  });
});

describe('isBotAgent', () => {
  it.each([
    ['Googlebot', true, USER_AGENTS.googlebot],
    ['HeadlessChrome', true, USER_AGENTS.headlessChrome],
    ['curl', true, USER_AGENTS.curl],
    ['desktop Chrome', false, USER_AGENTS.desktopChrome],
    ['iPhone Safari', false, USER_AGENTS.iPhoneSafari],
    ['no agent', false, undefined],
  ])('when the agent is %s, then bot is %s', (_, bot, agent) => {
    expect(isBotAgent(agent)).toBe(bot);
  });
});

describe('endUserOf (which agent is judged)', () => {
  const request = (userAgent: string, fromBrowser: boolean): RequestIdentity => ({
    clientIp: '198.51.100.7',
    userAgent,
    fromBrowser,
    receivedAt: new Date(),
  });
  it('when a server-side sender (no Origin, JSON) sends no context, then its own agent is parsed but not judged', () => {
    expect(endUserOf(undefined, request(USER_AGENTS.curl, false))).toEqual({
      ip: '198.51.100.7',
      userAgent: USER_AGENTS.curl,
      judgedAgent: undefined,
    });
  });
  it("when a browser's own request arrives, then its agent is judged", () => {
    expect(endUserOf(undefined, request(USER_AGENTS.googlebot, true)).judgedAgent).toBe(
      USER_AGENTS.googlebot,
    );
  });
  it("when context is sent, then its ip and user_agent win and the context's agent is judged", () => {
    expect(
      endUserOf(
        { ip: '2001:db8::1', user_agent: USER_AGENTS.iPhoneSafari },
        request(USER_AGENTS.node, false),
      ),
    ).toEqual({
      ip: '2001:db8::1',
      userAgent: USER_AGENTS.iPhoneSafari,
      judgedAgent: USER_AGENTS.iPhoneSafari,
    });
  });
});
