/**
 * The docs' links resolve: every relative markdown link of README.md, CHANGELOG.md and docs/ (`[text](path)`,
 * `[text](path#anchor)`, `[text](#anchor)`, images and reference definitions) points at a file or folder of the
 * repository and, when it has an anchor into a markdown file, at one of that file's headings, slugged as GitHub does.
 * Links with a scheme (https:, mailto:) are not followed. Code blocks and code spans are not links.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** README.md, CHANGELOG.md and every markdown file under docs/, relative to the repository root. */
function markdownFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file));
  return ['README.md', 'CHANGELOG.md', ...docs.sort()];
}

/**
 * The text with fenced code blocks, code spans and HTML comments blanked out (same length, same line breaks), so that
 * positions and line numbers still match the file and nothing inside code reads as a link or a heading.
 */
function withoutCode(markdown: string): string {
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  let fence: { char: string; length: number } | undefined;
  const lines = markdown.split('\n').map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (marker !== undefined) {
        fence = { char: marker[0]!, length: marker.length };
        return blank(line);
      }
      return line;
    }
    if (
      marker !== undefined &&
      marker[0] === fence.char &&
      marker.length >= fence.length &&
      /^\s*[`~]+\s*$/.test(line)
    ) {
      fence = undefined;
    }
    return blank(line);
  });
  return lines
    .join('\n')
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, blank);
}

/** GitHub's anchor for a heading's text (github-slugger): lowercase, punctuation and symbols dropped, spaces → '-'. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/`/g, '')
    .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, '') // _emphasis_, not snake_case
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a markdown file offers: its ATX headings' slugs (repeats get -1, -2, ...) and HTML ids and names. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = withoutCode(markdown);
  for (const line of text.split('\n')) {
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (heading !== null) {
      const base = slug(heading[1] ?? '');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
  }
  for (const match of text.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) {
    anchors.add(match[1]!);
  }
  return anchors;
}

interface Link {
  readonly line: number;
  readonly target: string;
}

/** Every link destination of a markdown text: inline links and images, and reference definitions. */
function linksOf(markdown: string): Link[] {
  const text = withoutCode(markdown);
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const links: Link[] = [];
  const inline =
    /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  for (const match of text.matchAll(inline)) {
    links.push({ line: lineAt(match.index), target: match[1]!.replace(/^<(.*)>$/, '$1') });
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm)) {
    links.push({ line: lineAt(match.index), target: match[1]!.replace(/^<(.*)>$/, '$1') });
  }
  return links;
}

/** What is wrong with the relative links of `file` (a path from the repository root), one line per broken link. */
export function brokenLinks(file: string, markdown = readFileSync(join(REPO_ROOT, file), 'utf8')): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      continue; // https:, mailto:, ...
    }
    const where = `${file}:${line}: ${target}`;
    if (target === '') {
      problems.push(`${where}: empty link`);
      continue;
    }
    const hash = target.indexOf('#');
    const path = decodeURI(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    if (path === '') {
      const anchors = anchorsOf(markdown);
      if (anchor !== undefined && !anchors.has(anchor)) {
        problems.push(`${where}: ${file} has no heading #${anchor} (it has: ${[...anchors].join(', ')})`);
      }
      continue;
    }
    const absolute = path.startsWith('/') ? join(REPO_ROOT, path) : resolve(REPO_ROOT, dirname(file), path);
    const inRepo = relative(REPO_ROOT, absolute);
    if (inRepo.startsWith('..')) {
      problems.push(`${where}: outside the repository`);
      continue;
    }
    if (!existsSync(absolute)) {
      problems.push(`${where}: no such file or folder (${inRepo})`);
      continue;
    }
    if (anchor !== undefined && absolute.endsWith('.md')) {
      const anchors = anchorsOf(readFileSync(absolute, 'utf8'));
      if (!anchors.has(anchor)) {
        problems.push(`${where}: ${inRepo} has no heading #${anchor} (it has: ${[...anchors].join(', ')})`);
      }
    }
  }
  return problems;
}

describe('the relative links of the README, the CHANGELOG and docs/', () => {
  const files = markdownFiles();

  it('should read the README, the CHANGELOG and the pages of docs/, and find the README links into docs/', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', join('docs', 'README.md')]));
    const readmeTargets = linksOf(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).map((link) => link.target);
    expect(readmeTargets).toEqual(expect.arrayContaining(['docs/configuration.md', 'docs/README.md']));
  });

  it.each(files)('%s: every relative link points at a file, and every anchor at a heading', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it('should slug headings as GitHub does', () => {
    expect(slug('Model versions: roll forward and back')).toBe('model-versions-roll-forward-and-back');
    expect(slug('What is verified, and how')).toBe('what-is-verified-and-how');
    expect(slug('Kubernetes (plain manifests)')).toBe('kubernetes-plain-manifests');
    expect(slug('v2: TensorFlow Serving')).toBe('v2-tensorflow-serving');
    expect(slug('`ONNX_PRECISION` and _int8_')).toBe('onnx_precision-and-int8');
    expect(slug('[Links](docs/README.md) & more')).toBe('links--more');
  });

  it('should report a missing file, a missing heading and a link out of the repository, but not code or URLs', () => {
    const page = [
      '# A page',
      '[ok](#a-page) [ok](configuration.md#security) [ok](https://example.com/nowhere.md) [ok](mailto:a@b.c)',
      '[gone](nowhere.md)',
      '[no heading](deployment.md#no-such-heading)',
      '[no heading here](#no-such-heading)',
      '[out](../../outside.md)',
      '`[code](nowhere.md)`',
      '```',
      '[code](nowhere.md)',
      '```',
    ].join('\n');
    const problems = brokenLinks(join('docs', 'example.md'), page);
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/example\.md:3: nowhere\.md: no such file/),
      expect.stringMatching(
        /^docs\/example\.md:4: deployment\.md#no-such-heading: docs\/deployment\.md has no heading/,
      ),
      expect.stringMatching(/^docs\/example\.md:5: #no-such-heading: docs\/example\.md has no heading/),
      expect.stringMatching(/^docs\/example\.md:6: \.\.\/\.\.\/outside\.md: outside the repository/),
    ]);
  });
});
