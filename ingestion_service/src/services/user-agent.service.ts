import Bowser from 'bowser';
import { isbot } from 'isbot';
import type { DeviceType } from '@analytics/common';

/** What is kept of a user agent: its parsed parts (names as bowser gives them), never the text. */
export interface UserAgentTraits {
  device: DeviceType;
  browser?: string;
  os?: string;
}

/** bowser's platform types → ours; `tv` and `bot` are `unknown`. */
const DEVICE_BY_PLATFORM: Readonly<Record<string, DeviceType>> = {
  desktop: 'desktop',
  mobile: 'mobile',
  tablet: 'tablet',
};

const UNKNOWN_AGENT: UserAgentTraits = Object.freeze({ device: 'unknown' });

/** Distinct user agents remembered: real traffic has few, so parsing mostly happens once per agent. */
const MEMO_MAX_AGENTS = 5000;
const traitsByAgent = new Map<string, UserAgentTraits>();

/** Device class, browser and OS of a user agent; memoised, so a repeated agent costs a map lookup. */
export function userAgentTraits(userAgent: string | undefined): UserAgentTraits {
  if (userAgent === undefined || userAgent.trim() === '') return UNKNOWN_AGENT;
  const remembered = traitsByAgent.get(userAgent);
  if (remembered) return remembered;
  const traits = parseUserAgent(userAgent);
  if (traitsByAgent.size >= MEMO_MAX_AGENTS) traitsByAgent.clear();
  traitsByAgent.set(userAgent, traits);
  return traits;
}

function parseUserAgent(userAgent: string): UserAgentTraits {
  const parsed = Bowser.parse(userAgent);
  const traits: UserAgentTraits = { device: DEVICE_BY_PLATFORM[parsed.platform.type ?? ''] ?? 'unknown' };
  if (parsed.browser.name) traits.browser = parsed.browser.name;
  if (parsed.os.name) traits.os = parsed.os.name;
  return Object.freeze(traits);
}

/** Whether an end user's agent is a bot (isbot's list); no agent is not a bot. */
export function isBotAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && userAgent !== '' && isbot(userAgent);
}
