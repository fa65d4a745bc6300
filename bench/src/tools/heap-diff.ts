import { readFileSync } from 'node:fs';

/**
 * `node bench/dist/tools/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [--top 20]`: the live
 * size of two heap snapshots (from `BENCH_HEAP_DIR=<dir> npm run bench -- --only ingestion`) and what grew
 * between them, by V8 node type and constructor name (strings and code each summed as one), in KB.
 * A snapshot holds only what is reachable, so growth here is retained memory; RSS that grows without
 * it is the heap's free space, young generation and memory outside the heap.
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

interface Totals {
  total: number;
  byKind: Map<string, { bytes: number; count: number }>;
}

function load(file: string): Totals {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: fields, node_types: nodeTypes } = snapshot.snapshot.meta;
  const types = nodeTypes[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const byKind = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]!]!;
    const name = type.includes('string')
      ? '(strings)'
      : type === 'code'
        ? '(code)'
        : strings[nodes[i + nameAt]!]!;
    const kind = `${type} ${name.slice(0, 60)}`;
    const size = nodes[i + sizeAt]!;
    total += size;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    byKind.set(kind, entry);
  }
  return { total, byKind };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 20;
  const [beforeFile, afterFile] = args.filter((arg, i) => arg !== '--top' && (topAt < 0 || i !== topAt + 1));
  if (!beforeFile || !afterFile) {
    console.error('usage: node bench/dist/tools/heap-diff.js <before.heapsnapshot> <after.heapsnapshot>');
    process.exit(2);
  }
  const before = load(beforeFile);
  const after = load(afterFile);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(`live heap: ${mb(before.total)} MB → ${mb(after.total)} MB\n`);
  console.log('| type and name | KB before | KB after | growth KB | objects added |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const kinds = new Set([...before.byKind.keys(), ...after.byKind.keys()]);
  const rows = [...kinds].map((kind) => {
    const a = before.byKind.get(kind) ?? { bytes: 0, count: 0 };
    const b = after.byKind.get(kind) ?? { bytes: 0, count: 0 };
    return { kind, a, b, growth: b.bytes - a.bytes };
  });
  rows.sort((x, y) => Math.abs(y.growth) - Math.abs(x.growth));
  for (const { kind, a, b, growth } of rows.slice(0, top)) {
    const kb = (bytes: number) => (bytes / 1024).toFixed(0);
    console.log(`| \`${kind}\` | ${kb(a.bytes)} | ${kb(b.bytes)} | ${kb(growth)} | ${b.count - a.count} |`);
  }
}
