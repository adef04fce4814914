import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every citation of the protocol notes ("docs/gdw376.md §3.5", "docs/cjt188.md §1.7, §1.11") must name a file
 * in docs/ and a section that file has, so that a maintainer who follows a comment lands on the fact it relies
 * on. See docs/README.md "How citations work".
 */

const ROOT = join(import.meta.dirname, '..');
const DOCS = join(ROOT, 'docs');
const SKIP = new Set(['node_modules', '.git', 'docs', 'dist', 'coverage', '.vitest-results']);
const EXTENSIONS = ['.ts', '.json', '.md'];

/** One citation: where it is, the docs file and the section ("3.5", "8"), or no section for a bare file. */
interface Citation {
  where: string;
  file: string;
  section: string | undefined;
}

// "docs/<name>.md", then optionally " §N[.M]" and more sections joined by , ; / – - "and" (with an optional
// parenthetical before the joiner: "§1.2 (checksum), §1.14").
const FILE = /docs\/([a-z0-9-]+\.md)(?: (§\d+(?:\.\d+)?))?/g;
const MORE = /^\s*(?:\([^()]*\))?\s*(?:,|;|\/|–|-|and)\s*§(\d+(?:\.\d+)?)/;

/** The citations in one text. */
function citationsIn(text: string, where: string): Citation[] {
  const found: Citation[] = [];
  for (const m of text.matchAll(FILE)) {
    const file = m[1];
    found.push({ where, file, section: m[2]?.slice(1) });
    if (m[2] === undefined || m.index === undefined) continue;
    let rest = text.slice(m.index + m[0].length);
    for (let more = MORE.exec(rest); more; more = MORE.exec(rest)) {
      found.push({ where, file, section: more[1] });
      rest = rest.slice(more[0].length);
    }
  }
  return found;
}

/** The section numbers a notes file has: "## 3.5 Login…" gives "3.5" and "3"; "## 8. What…" gives "8". */
function sectionsOf(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const m of markdown.matchAll(/^#{2,3} (\d+)(?:\.(\d+))?[.\s]/gm)) {
    sections.add(m[1]);
    if (m[2] !== undefined) sections.add(`${m[1]}.${m[2]}`);
  }
  return sections;
}

/** Citations whose file or section does not exist, as readable lines. */
function unresolved(citations: readonly Citation[], docs: ReadonlyMap<string, Set<string>>): string[] {
  return citations
    .filter((c) => !docs.has(c.file) || (c.section !== undefined && !docs.get(c.file)?.has(c.section)))
    .map((c) => `${c.where}: docs/${c.file}${c.section === undefined ? '' : ` §${c.section}`}`);
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP.has(name)) out.push(...filesUnder(path));
    } else if (EXTENSIONS.some((e) => name.endsWith(e)) && !/^package(-lock)?\.json$/.test(name)) {
      out.push(path);
    }
  }
  return out;
}

function docsSections(): Map<string, Set<string>> {
  const docs = new Map<string, Set<string>>();
  for (const name of readdirSync(DOCS).filter((n) => n.endsWith('.md'))) {
    docs.set(name, sectionsOf(readFileSync(join(DOCS, name), 'utf8')));
  }
  return docs;
}

describe('citations of docs/', () => {
  it('finds runs of sections after one file, and bare file citations', () => {
    const text = 'x (docs/cjt188.md §1.2 (checksum), §1.14; docs/field-notes.md §8) and docs/sources.md.';
    expect(citationsIn(text, 't').map((c) => `${c.file} ${c.section}`)).toEqual([
      'cjt188.md 1.2',
      'cjt188.md 1.14',
      'field-notes.md 8',
      'sources.md undefined',
    ]);
  });

  it('reports a citation of a missing file or section', () => {
    const docs = new Map([['gdw376.md', sectionsOf('## 3.1 Frame\n\n## 3.5 Login\n')]]);
    const cited = citationsIn('docs/gdw376.md §3.5, §3.9 and docs/nope.md §1', 'f.ts:1');
    expect(unresolved(cited, docs)).toEqual(['f.ts:1: docs/gdw376.md §3.9', 'f.ts:1: docs/nope.md §1']);
  });

  it('every citation in the code, fixtures and READMEs names an existing section of docs/', () => {
    const docs = docsSections();
    expect([...docs.keys()]).toEqual(expect.arrayContaining(['cjt188.md', 'dlt645.md', 'gdw376.md']));
    const cited = filesUnder(ROOT).flatMap((path) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line, i) => citationsIn(line, `${relative(ROOT, path)}:${i + 1}`)),
    );
    // README.md's layout table cites docs/gdw376.md §3.5 itself, so the walk always has something to check.
    expect(cited.length).toBeGreaterThan(0);
    expect(unresolved(cited, docs)).toEqual([]);
  });

  it('the notes link only to notes that exist', () => {
    const broken: string[] = [];
    for (const name of readdirSync(DOCS).filter((n) => n.endsWith('.md'))) {
      for (const m of readFileSync(join(DOCS, name), 'utf8').matchAll(/\]\(([a-z0-9-]+\.md)\)/g)) {
        if (!existsSync(join(DOCS, m[1]))) broken.push(`${name} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
