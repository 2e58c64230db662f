/**
 * A small YAML reader for clouds.yaml / secure.yaml. It understands the subset those files use in practice:
 * block mappings and block sequences nested by indentation, plain/single-quoted/double-quoted scalars,
 * one-line flow collections ([a, b], {k: v}), literal/folded block scalars (| and >), comments, a leading "---".
 * Scalars are typed like PyYAML (which openstacksdk uses): true/false/yes/no/on/off, null/~, decimal numbers.
 * Anchors, aliases, tags, complex keys and multi-line plain scalars are refused with an error naming file and line.
 */

export class YamlError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line { no: number; indent: number; text: string }

export function parseYaml(source: string, file = '<yaml>'): YamlValue {
  return new Parser(source, file).parseDocument();
}

class Parser {
  private readonly raw: string[];
  private pos = 0;

  constructor(source: string, private readonly file: string) {
    this.raw = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  }

  private fail(lineNo: number, msg: string): never { throw new YamlError(this.file, lineNo, msg); }

  /** The next line that carries content (comments and blank lines skipped), without consuming it. */
  private peek(): Line | undefined {
    while (this.pos < this.raw.length) {
      const raw = this.raw[this.pos];
      const no = this.pos + 1;
      const indentMatch = /^[ \t]*/.exec(raw)![0];
      const body = stripComment(raw.slice(indentMatch.length)).trimEnd();
      if (body === '') { this.pos++; continue; }
      if (indentMatch.includes('\t')) this.fail(no, 'tab characters are not allowed in indentation');
      return { no, indent: indentMatch.length, text: body };
    }
    return undefined;
  }

  parseDocument(): YamlValue {
    let first = this.peek();
    if (first && first.text.startsWith('%')) this.fail(first.no, 'YAML directives are not supported');
    if (first && first.indent === 0 && /^---(\s|$)/.test(first.text)) {
      if (first.text.trim() !== '---') this.fail(first.no, 'content after "---" is not supported');
      this.pos++;
      first = this.peek();
    }
    if (!first) return null;
    const value = this.parseBlock(first.indent);
    const rest = this.peek();
    if (rest) {
      if (rest.indent === 0 && (rest.text === '...' || rest.text === '---')) {
        this.pos++;
        const more = this.peek();
        if (more) this.fail(more.no, 'multiple documents are not supported');
      } else {
        this.fail(rest.no, rest.indent > 0 ? 'unexpected indentation' : 'unexpected content');
      }
    }
    return value;
  }

  /** A block collection (or a lone scalar) whose lines start at exactly `indent`. */
  private parseBlock(indent: number): YamlValue {
    const line = this.peek()!;
    if (isSeqItem(line.text)) return this.parseSequence(indent);
    if (findMappingColon(line.text) >= 0) return this.parseMapping(indent);
    // a document that is a single scalar
    this.pos++;
    return this.scalar(line.text, line.no);
  }

  private parseSequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent || isDocMarker(line)) break;
      if (line.indent > indent) this.fail(line.no, 'unexpected indentation');
      if (!isSeqItem(line.text)) break;
      const rest = line.text.replace(/^-\s*/, '');
      if (rest === '') {
        this.pos++;
        const next = this.peek();
        out.push(next && next.indent > indent ? this.parseBlock(next.indent) : null);
        continue;
      }
      const restIndent = indent + (line.text.length - rest.length);
      if (isSeqItem(rest) || findMappingColon(rest) >= 0) {
        // "- key: value" starts a mapping (or nested sequence) at the column of "key": rewrite the line so.
        this.raw[line.no - 1] = ' '.repeat(restIndent) + rest;
        out.push(this.parseBlock(restIndent));
      } else {
        this.pos++;
        out.push(this.inlineValue(rest, line, indent));
      }
    }
    return out;
  }

  private parseMapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent || isDocMarker(line)) break;
      if (line.indent > indent) this.fail(line.no, 'unexpected indentation');
      if (isSeqItem(line.text)) break;
      if (line.text.startsWith('? ')) this.fail(line.no, 'complex mapping keys are not supported');
      const colon = findMappingColon(line.text);
      if (colon < 0) this.fail(line.no, `expected "key: value", found ${JSON.stringify(line.text)}`);
      const key = this.key(line.text.slice(0, colon).trim(), line.no);
      const rest = line.text.slice(colon + 1).trim();
      this.pos++;
      if (rest === '') {
        const next = this.peek();
        if (next && next.indent > indent) out[key] = this.parseBlock(next.indent);
        else if (next && next.indent === indent && isSeqItem(next.text)) out[key] = this.parseSequence(indent);
        else out[key] = null;
      } else {
        out[key] = this.inlineValue(rest, line, indent);
      }
    }
    return out;
  }

  private key(text: string, lineNo: number): string {
    if (text === '') this.fail(lineNo, 'empty mapping key');
    const v = this.scalar(text, lineNo);
    if (v !== null && typeof v === 'object') this.fail(lineNo, 'collections as mapping keys are not supported');
    return String(v);
  }

  /** The value written after "key:" or "- " on the same line. */
  private inlineValue(text: string, line: Line, parentIndent: number): YamlValue {
    const block = /^([|>])([+-]?)(\d?)([+-]?)$/.exec(text);
    if (block) return this.blockScalar(block[1] === '>', (block[2] || block[4]) as '' | '+' | '-', block[3], parentIndent);
    const v = this.scalar(text, line.no);
    const next = this.peek();
    if (next && next.indent > line.indent) {
      this.fail(next.no, 'unexpected indentation (multi-line plain scalars are not supported: quote the value on one line)');
    }
    return v;
  }

  private blockScalar(folded: boolean, chomp: '' | '+' | '-', explicitIndent: string, parentIndent: number): string {
    const lines: string[] = [];
    let indent = explicitIndent ? parentIndent + Number(explicitIndent) : -1;
    while (this.pos < this.raw.length) {
      const raw = this.raw[this.pos];
      if (raw.trim() === '') { lines.push(''); this.pos++; continue; }
      const lead = /^ */.exec(raw)![0].length;
      if (indent < 0) {
        if (lead <= parentIndent) break;
        indent = lead;
      }
      if (lead < indent) break;
      lines.push(raw.slice(indent));
      this.pos++;
    }
    // trailing blank lines belong to chomping, not to content
    let trailing = 0;
    while (lines.length && lines[lines.length - 1] === '') { lines.pop(); trailing++; }
    let text: string;
    if (folded) {
      text = '';
      lines.forEach((l, i) => {
        if (i === 0) text = l;
        else if (l === '') text += '\n';
        else if (lines[i - 1] === '') text += l;
        else if (/^\s/.test(l) || /^\s/.test(lines[i - 1])) text += '\n' + l;
        else text += ' ' + l;
      });
    } else {
      text = lines.join('\n');
    }
    if (lines.length === 0) return '';
    if (chomp === '-') return text;
    if (chomp === '+') return text + '\n'.repeat(trailing + 1);
    return text + '\n';
  }

  private scalar(text: string, lineNo: number): YamlValue {
    const t = text.trim();
    if (t.startsWith('&') || t.startsWith('*')) this.fail(lineNo, 'anchors and aliases are not supported');
    if (t.startsWith('!')) this.fail(lineNo, 'tags are not supported');
    if (t.startsWith('[') || t.startsWith('{')) {
      const flow = new FlowParser(t, (m) => this.fail(lineNo, m));
      const v = flow.value();
      flow.end();
      return v;
    }
    if (t.startsWith('"') || t.startsWith("'")) {
      const [v, end] = readQuoted(t, 0, (m) => this.fail(lineNo, m));
      if (t.slice(end).trim() !== '') this.fail(lineNo, `unexpected text after quoted string: ${JSON.stringify(t.slice(end).trim())}`);
      return v;
    }
    if (t.startsWith('@') || t.startsWith('`')) this.fail(lineNo, `a plain scalar cannot start with ${t[0]}`);
    return typedPlain(t);
  }
}

function isDocMarker(line: Line): boolean { return line.indent === 0 && (line.text === '---' || line.text === '...'); }

function isSeqItem(text: string): boolean { return text === '-' || text.startsWith('- '); }

/** Index of the ":" separating key and value (followed by space or end of line), outside quotes; -1 if none. */
function findMappingColon(text: string): number {
  let i = 0;
  if (text.startsWith('"') || text.startsWith("'")) {
    try { i = readQuoted(text, 0, (m) => { throw new Error(m); })[1]; } catch { return -1; }
  } else if (text.startsWith('[') || text.startsWith('{')) {
    return -1;
  }
  for (; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

/** Remove a trailing comment: "#" at the start or after whitespace, outside quotes. */
function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (quote === '"' && c === '\\') { i++; continue; }
      if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") { i++; continue; }
        quote = null;
      }
      continue;
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) return text.slice(0, i);
    // quotes only open at the start of a scalar (after ": ", "- ", "[", "{", ",", or at the beginning)
    if ((c === '"' || c === "'") && (i === 0 || /[\s\[{,:]/.test(text[i - 1]))) quote = c;
  }
  return text;
}

const ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', '0': '\0', b: '\b', f: '\f', e: '\x1b', ' ': ' ', a: '\x07', v: '\v',
};

/** Read a quoted string starting at text[start]; returns the value and the index just past the closing quote. */
function readQuoted(text: string, start: number, fail: (m: string) => never): [string, number] {
  const q = text[start];
  let out = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (q === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") { out += "'"; i++; continue; }
        return [out, i + 1];
      }
      out += c;
    } else {
      if (c === '"') return [out, i + 1];
      if (c === '\\') {
        const e = text[++i];
        if (e === 'x' || e === 'u' || e === 'U') {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = text.slice(i + 1, i + 1 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(`bad escape \\${e}${hex}`);
          out += String.fromCodePoint(parseInt(hex, 16));
          i += len;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
        } else {
          fail(`unknown escape \\${e ?? ''} in double-quoted string`);
        }
        continue;
      }
      out += c;
    }
  }
  return fail(`unterminated ${q === '"' ? 'double' : 'single'}-quoted string`);
}

/** PyYAML's implicit typing for the plain scalars clouds.yaml uses. */
function typedPlain(t: string): YamlValue {
  if (t === '' || t === '~' || t === 'null' || t === 'Null' || t === 'NULL') return null;
  if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON)$/.test(t)) return true;
  if (/^(false|False|FALSE|no|No|NO|off|Off|OFF)$/.test(t)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(t)) return Number(t);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
  return t;
}

/** One-line flow collections: [a, 'b', {c: d}] and {a: 1, b: [x]}. */
class FlowParser {
  private i = 0;
  constructor(private readonly s: string, private readonly fail: (m: string) => never) {}

  private ws(): void { while (this.s[this.i] === ' ') this.i++; }

  end(): void {
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected text after flow collection: ${JSON.stringify(this.s.slice(this.i))}`);
  }

  value(): YamlValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') return this.seq();
    if (c === '{') return this.map();
    if (c === '"' || c === "'") {
      const [v, end] = readQuoted(this.s, this.i, this.fail);
      this.i = end;
      return v;
    }
    const start = this.i;
    while (this.i < this.s.length && !',]}'.includes(this.s[this.i])
      && !(this.s[this.i] === ':' && (this.s[this.i + 1] === ' ' || this.s[this.i + 1] === undefined))) this.i++;
    return typedPlain(this.s.slice(start, this.i).trim());
  }

  private seq(): YamlValue[] {
    const out: YamlValue[] = [];
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === ']') { this.i++; return out; }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') { this.i++; continue; }
      if (this.s[this.i] === ']') { this.i++; return out; }
      return this.fail('unterminated or malformed flow sequence');
    }
  }

  private map(): { [k: string]: YamlValue } {
    const out: { [k: string]: YamlValue } = {};
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const k = this.value();
      if (k !== null && typeof k === 'object') this.fail('collections as mapping keys are not supported');
      this.ws();
      let v: YamlValue = null;
      if (this.s[this.i] === ':') { this.i++; v = this.value(); }
      out[String(k)] = v;
      this.ws();
      if (this.s[this.i] === ',') { this.i++; continue; }
      if (this.s[this.i] === '}') { this.i++; return out; }
      return this.fail('unterminated or malformed flow mapping');
    }
  }
}
