import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@analytics/testkit';

/** The Markdown a reader follows: the README, CONTRIBUTING.md and everything in docs/. */
function markdownFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name));
  return ['README.md', 'CONTRIBUTING.md', ...docs].filter((file) =>
    fs.existsSync(path.join(REPO_ROOT, file)),
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  const anchors = new Set<string>();
  for (const match of text.matchAll(/^#{1,6}\s+(.+)$/gm)) anchors.add(slug(match[1]!));
  for (const match of text.matchAll(/<a (?:name|id)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** Every relative link of a file: `[text](target)` outside code blocks and code spans. */
function relativeLinks(file: string): string[] {
  const text = fs
    .readFileSync(path.join(REPO_ROOT, file), 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('when the docs are read, then there are some to check', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md']));
  });

  it.each(files)('when %s links to a file or a heading of this repository, then it exists', (file) => {
    const broken: string[] = [];
    for (const target of relativeLinks(file)) {
      const [targetPath, anchor] = target.split('#') as [string, string | undefined];
      const resolved = targetPath === '' ? file : path.normalize(path.join(path.dirname(file), targetPath));
      if (!fs.existsSync(path.join(REPO_ROOT, resolved))) {
        broken.push(`${target}: no such file ${resolved}`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${resolved}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
