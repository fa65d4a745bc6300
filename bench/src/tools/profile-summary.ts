import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `node bench/dist/tools/profile-summary.js <file.cpuprofile> [top]`: the frames a V8 CPU profile (from
 * `node --cpu-prof`, or `npm run bench -- --profile <dir>`) spends its time in, by self time and by
 * inclusive time, and the self time per package (node_modules/<name>, node: internals, the project).
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 'node_modules/'.length);
  const marker = url.indexOf('/work/');
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return marker === -1 ? file : path.relative(process.cwd(), file);
}

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const where = shortUrl(frame.url);
  return where ? `${name} ${where}:${frame.lineNumber + 1}` : name;
}

function packageOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const match = /\/(common|ingestion_service|processor_service|reporting_service|cron_service|bench)\//.exec(
    url,
  );
  return match ? `project: ${match[1]}` : '(other)';
}

/** Packages that do work on behalf of their caller: their time is charged to the caller's category. */
const PASS_THROUGH = new Set([
  '(root)',
  'node: internals',
  '(native)',
  'ioredis',
  '@ioredis/commands',
  'redis-errors',
  'standard-as-callback',
  'denque',
  'cluster-key-slot',
]);

const CATEGORIES: [RegExp, string][] = [
  [/^(joi|@hapi\/.*)$/, 'validation (Joi)'],
  [
    /^(bullmq|msgpackr|msgpackr-extract|uuid|semver|cron-parser)$/,
    'BullMQ (add or fetch/complete, its Redis calls)',
  ],
  [
    /^(rate-limiter-flexible|express-rate-limit|ip-address|jsbn|sprintf-js)$/,
    'rate limits (their Redis calls)',
  ],
  [/^(helmet|cors|vary|object-assign)$/, 'helmet + cors'],
  [
    /^(winston|logform|safe-stable-stringify|triple-beam|winston-transport|readable-stream|fecha|colors|@colors\/colors|one-time|fn\.name|kuler|stack-trace|@dabh\/diagnostics|text-hex|color|color-string|color-convert|color-name|simple-swizzle|is-arrayish|enabled)$/,
    'logging (winston)',
  ],
  [
    /^(body-parser|raw-body|type-is|mime-types|mime-db|media-typer|content-type|iconv-lite|bytes|http-errors|unpipe|destroy|depd|toidentifier|setprototypeof|inherits|safer-buffer)$/,
    'body read + JSON parse',
  ],
  [
    /^(express|router|finalhandler|send|on-finished|ee-first|parseurl|path-to-regexp|statuses|content-disposition|etag|fresh|qs|accepts|negotiator|encodeurl|escape-html|proxy-addr|forwarded|ipaddr\.js|range-parser|merge-descriptors|utils-merge|methods|cookie|cookie-signature|serve-static|debug|ms|is-promise|side-channel.*|call-bound|get-intrinsic|es-.*|function-bind|has-symbols|hasown|gopd|dunder-proto|math-intrinsics|call-bind-apply-helpers|object-inspect)$/,
    'Express (routing, request, response)',
  ],
  [
    /^(mongodb|mongoose|bson|mquery|kareem|mpath|sift|@mongodb-js\/.*|whatwg-url|webidl-conversions|tr46)$/,
    'MongoDB driver',
  ],
  [/^project: /, 'project code'],
];

/** The category of a sample: the nearest frame (from the leaf up) of a package that is not pass-through. */
function categoryOf(stack: CallFrame[]): string {
  const first = stack[0];
  if (first && first.functionName.startsWith('(') && !first.url) return first.functionName;
  if (stack.some((f) => /^(Module\._load|Module\._compile|wrapSafe|compileFunction)$/.test(f.functionName))) {
    return 'start-up (module loading)';
  }
  let sawRedis = false;
  for (const frame of stack) {
    const pkg = packageOf(frame);
    if (pkg === 'ioredis') sawRedis = true;
    if (PASS_THROUGH.has(pkg)) continue;
    for (const [pattern, category] of CATEGORIES) {
      if (pattern.test(pkg)) return category === 'project code' ? `project code (${pkg.slice(9)})` : category;
    }
    return `other: ${pkg}`;
  }
  return sawRedis ? 'Redis client (no caller found)' : 'Node core (HTTP parser, sockets, timers)';
}

function top(map: Map<string, number>, total: number, count: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([key, ms]) =>
        `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${key}`,
    );
}

function main(): void {
  const file = process.argv[2];
  const count = Number(process.argv[3] ?? 25);
  if (!file) {
    console.error('usage: node bench/dist/tools/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Time per sample: the delta to the next sample (the profile's own accounting).
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  const categories = new Map<string, number>();
  let total = 0;
  samples.forEach((id, i) => {
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    total += ms;
    const node = byId.get(id);
    if (!node) return;
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const pkg = packageOf(node.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const seen = new Set<string>();
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      stack.push(frame);
      const k = frameKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
    const category = categoryOf(stack);
    categories.set(category, (categories.get(category) ?? 0) + ms);
  });
  const idle = self.get('(idle)') ?? 0;
  console.log(
    `${file}: ${total.toFixed(0)} ms sampled, ${idle.toFixed(0)} ms idle (${((100 * idle) / total).toFixed(1)} %)`,
  );
  const busy = total - idle - (categories.get('start-up (module loading)') ?? 0);
  console.log(
    '\nby category (time of a sample goes to the nearest caller that is not Node, native or ioredis):',
  );
  console.log(top(categories, total, 20).join('\n'));
  console.log(`\nbusy (not idle, not start-up): ${busy.toFixed(0)} ms; by category as a share of busy time:`);
  console.log(
    [...categories.entries()]
      .filter(([c]) => c !== '(idle)' && c !== 'start-up (module loading)')
      .sort((a, b) => b[1] - a[1])
      .map(([c, ms]) => `${((100 * ms) / busy).toFixed(1).padStart(6)} %  ${c}`)
      .join('\n'),
  );
  console.log('\nself time by package:');
  console.log(top(packages, total, 15).join('\n'));
  console.log('\nself time by frame:');
  console.log(top(self, total, count).join('\n'));
  console.log('\ninclusive time by frame:');
  console.log(top(inclusive, total, count).join('\n'));
}

main();
