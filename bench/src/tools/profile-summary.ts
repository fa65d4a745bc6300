import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `node bench/dist/tools/profile-summary.js <file.cpuprofile | dir> [--top 25]`: what a `--cpu-prof`
 * profile (from `npm run bench -- --profile <dir>`) spent its busy time on, as Markdown tables: the top
 * functions by self time, the same by inclusive time (a frame counted once per sample however deep it
 * recurs), and self time by package (node_modules/<name>, node: internals, the project's own code).
 * Shares are of busy samples: `(idle)`, `(program)` and `(garbage collector)` are reported apart.
 * A directory is read whole (every .cpuprofile in it, summed).
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function frameName(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) return file.slice(modules + 'node_modules/'.length);
  const parts = file.split('/');
  const service = parts.findIndex((part) => /_service$|^common$|^bench$/.test(part));
  return service >= 0 ? parts.slice(service).join('/') : file;
}

export function packageOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName) && !frame.url) return frame.functionName;
  const url = frame.url;
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = file.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const parts = file.split('/');
  const own = parts.find((part) => /_service$|^common$/.test(part));
  return own ? `project: ${own}` : 'other';
}

interface Totals {
  busyUs: number;
  specialUs: Map<string, number>;
  self: Map<string, number>;
  inclusive: Map<string, number>;
  byPackage: Map<string, number>;
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function summarise(profile: CpuProfile, totals: Totals): void {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  for (let i = 0; i < profile.samples.length; i += 1) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const frame = node.callFrame;
    if (SPECIAL.has(frame.functionName) && !frame.url) {
      add(totals.specialUs, frame.functionName, us);
      if (frame.functionName !== '(idle)') {
        totals.busyUs += us;
        add(totals.self, frame.functionName, us);
        add(totals.byPackage, frame.functionName, us);
      }
      continue;
    }
    totals.busyUs += us;
    add(totals.self, frameName(frame), us);
    add(totals.byPackage, packageOf(frame), us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!.callFrame);
      if (seen.has(name) || name === '(root)') continue;
      seen.add(name);
      add(totals.inclusive, name, us);
    }
  }
}

function table(title: string, map: Map<string, number>, busyUs: number, top: number): string {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`| ${title} | ms | % of busy |`, '| --- | ---: | ---: |'];
  for (const [name, us] of rows) {
    lines.push(
      `| \`${name.replace(/\|/g, '\\|')}\` | ${(us / 1000).toFixed(1)} | ${((100 * us) / busyUs).toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

export function summariseFiles(files: string[], top = 25): string {
  const totals: Totals = {
    busyUs: 0,
    specialUs: new Map(),
    self: new Map(),
    inclusive: new Map(),
    byPackage: new Map(),
  };
  for (const file of files) summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, totals);
  const idle = totals.specialUs.get('(idle)') ?? 0;
  return [
    `${files.length} profile(s); busy ${(totals.busyUs / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`,
    '',
    table('self time, by function', totals.self, totals.busyUs, top),
    '',
    table('inclusive time, by function', totals.inclusive, totals.busyUs, top),
    '',
    table('self time, by package', totals.byPackage, totals.busyUs, top),
  ].join('\n');
}

function profilesIn(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(target, name));
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const targets = args.filter((arg, i) => arg !== '--top' && (topAt < 0 || i !== topAt + 1));
  if (targets.length === 0) {
    console.error('usage: node bench/dist/tools/profile-summary.js <file.cpuprofile | dir>... [--top N]');
    process.exit(2);
  }
  console.log(summariseFiles(targets.flatMap(profilesIn), top));
}
