/**
 * An emulation of how API Gateway (REST API, non-proxy AWS integration) selects and
 * renders mapping templates: Velocity 1.7 on the JVM, with API Gateway's $input, $util
 * and $context. Built on velocityjs, whose JavaScript semantics are patched where they
 * differ from Java Velocity:
 *
 * - strings are JavaString objects, so `.length()`, `.matches()`, `.replaceAll()` (regex),
 *   `.substring()`, `.trim()` behave like java.lang.String;
 * - `#if($x)` is false only for null and false (an empty string is true, as in 1.7);
 * - `==` compares like ASTEQNode (numbers by value, same types with equals(), otherwise
 *   toString()); `<`/`>` need numbers; `+` concatenates when either side is a string;
 * - a reference that resolves to null renders as its own text (`$x`), `$!x` as '';
 * - `#set($x = <null>)` leaves $x unchanged (directive.set.null.allowed = false);
 * - `$map.key` on a Map calls get('key'); `#foreach` over a Map iterates its values.
 *
 * Anything the emulator cannot model faithfully throws rather than guessing.
 */
import { Compile, Helper, parse } from 'velocityjs';

// ---------------------------------------------------------------------------------------
// Java value model
// ---------------------------------------------------------------------------------------

/** A java.lang.String. */
export class JavaString {
  constructor(readonly value: string) {}

  static of(value: string | JavaString): JavaString {
    return value instanceof JavaString ? value : new JavaString(value);
  }

  toString(): string {
    return this.value;
  }

  valueOf(): string {
    return this.value;
  }

  length(): number {
    return this.value.length;
  }

  isEmpty(): boolean {
    return this.value.length === 0;
  }

  charAt(index: unknown): JavaString {
    const i = javaInt(index, 'charAt');
    if (i < 0 || i >= this.value.length) throw new JavaException('StringIndexOutOfBoundsException', `index ${i}, length ${this.value.length}`);
    return new JavaString(this.value.charAt(i));
  }

  equals(other: unknown): boolean {
    return (other instanceof JavaString || typeof other === 'string') && String(other) === this.value;
  }

  equalsIgnoreCase(other: unknown): boolean {
    return other !== null && other !== undefined && String(other).toLowerCase() === this.value.toLowerCase();
  }

  contains(other: unknown): boolean {
    return this.value.includes(javaStr(other, 'contains'));
  }

  startsWith(prefix: unknown, offset?: unknown): boolean {
    const p = javaStr(prefix, 'startsWith');
    const at = offset === undefined ? 0 : javaInt(offset, 'startsWith');
    if (at < 0 || at > this.value.length) return false;
    return this.value.startsWith(p, at);
  }

  endsWith(suffix: unknown): boolean {
    return this.value.endsWith(javaStr(suffix, 'endsWith'));
  }

  indexOf(needle: unknown, from?: unknown): number {
    const n = typeof needle === 'number' ? String.fromCodePoint(needle) : javaStr(needle, 'indexOf');
    return this.value.indexOf(n, from === undefined ? 0 : Math.max(0, javaInt(from, 'indexOf')));
  }

  lastIndexOf(needle: unknown, from?: unknown): number {
    const n = typeof needle === 'number' ? String.fromCodePoint(needle) : javaStr(needle, 'lastIndexOf');
    if (from === undefined) return this.value.lastIndexOf(n);
    const f = javaInt(from, 'lastIndexOf');
    return f < 0 ? -1 : this.value.lastIndexOf(n, f);
  }

  substring(begin: unknown, end?: unknown): JavaString {
    const b = javaInt(begin, 'substring');
    const e = end === undefined ? this.value.length : javaInt(end, 'substring');
    if (b < 0 || e > this.value.length || b > e) {
      throw new JavaException('StringIndexOutOfBoundsException', `begin ${b}, end ${e}, length ${this.value.length}`);
    }
    return new JavaString(this.value.substring(b, e));
  }

  /** Java's trim() strips code units <= U+0020 only (not NBSP, BOM or other Unicode spaces). */
  trim(): JavaString {
    let start = 0;
    let end = this.value.length;
    while (start < end && this.value.charCodeAt(start) <= 0x20) start++;
    while (end > start && this.value.charCodeAt(end - 1) <= 0x20) end--;
    return new JavaString(this.value.substring(start, end));
  }

  toLowerCase(): JavaString {
    return new JavaString(this.value.toLowerCase());
  }

  toUpperCase(): JavaString {
    return new JavaString(this.value.toUpperCase());
  }

  concat(other: unknown): JavaString {
    return new JavaString(this.value + javaStr(other, 'concat'));
  }

  /** String.replace(CharSequence, CharSequence): literal, every occurrence. */
  replace(target: unknown, replacement: unknown): JavaString {
    const t = typeof target === 'number' ? String.fromCharCode(target) : javaStr(target, 'replace');
    const r = typeof replacement === 'number' ? String.fromCharCode(replacement) : javaStr(replacement, 'replace');
    return new JavaString(this.value.split(t).join(r));
  }

  /** String.replaceAll(regex, replacement): a java.util.regex pattern and Matcher replacement syntax. */
  replaceAll(regex: unknown, replacement: unknown): JavaString {
    const re = javaRegex(javaStr(regex, 'replaceAll'), 'g');
    const repl = javaStr(replacement, 'replaceAll');
    return new JavaString(this.value.replace(re, (...match) => javaReplacement(repl, match)));
  }

  replaceFirst(regex: unknown, replacement: unknown): JavaString {
    const re = javaRegex(javaStr(regex, 'replaceFirst'), '');
    const repl = javaStr(replacement, 'replaceFirst');
    return new JavaString(this.value.replace(re, (...match) => javaReplacement(repl, match)));
  }

  /** String.matches(regex): the whole string must match. */
  matches(regex: unknown): boolean {
    const source = javaStr(regex, 'matches');
    return javaRegex(`^(?:${source})$`, '').test(this.value);
  }

  /** String.split(regex) with limit 0: trailing empty strings are removed. */
  split(regex: unknown): JavaList {
    const source = javaStr(regex, 'split');
    if (this.value === '') return JavaList.fromItems([new JavaString('')]);
    const parts = this.value.split(javaRegex(source, ''));
    if (parts.length > 0 && parts[0] === '' && javaRegex(`^(?:${source})`, '').exec(this.value)?.[0] === '') parts.shift();
    while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    return JavaList.fromItems(parts.map((p) => new JavaString(p ?? '')));
  }

  compareTo(other: unknown): number {
    const o = javaStr(other, 'compareTo');
    const n = Math.min(this.value.length, o.length);
    for (let i = 0; i < n; i++) {
      const d = this.value.charCodeAt(i) - o.charCodeAt(i);
      if (d !== 0) return d;
    }
    return this.value.length - o.length;
  }

  hashCode(): number {
    let h = 0;
    for (let i = 0; i < this.value.length; i++) h = (Math.imul(31, h) + this.value.charCodeAt(i)) | 0;
    return h;
  }
}

/** A boxed java.lang.Integer/Long/Double/Boolean, so methods can be called on numbers. */
class JavaBox {
  constructor(readonly value: number | boolean) {}
  toString(): string {
    return String(this.value);
  }
  valueOf(): number | boolean {
    return this.value;
  }
  equals(other: unknown): boolean {
    return unbox(other) === this.value;
  }
  intValue(): number {
    return Math.trunc(Number(this.value));
  }
}

/** A java.util.LinkedHashMap<String, Object>: insertion order, case-sensitive keys. */
export class JavaMap {
  private readonly entries = new Map<string, unknown>();

  static of(entries: Iterable<readonly [string, unknown]>): JavaMap {
    const map = new JavaMap();
    for (const [key, value] of entries) map.put(key, value);
    return map;
  }

  get(key: unknown): unknown {
    if (key === null || key === undefined) return null;
    const k = String(key);
    return this.entries.has(k) ? this.entries.get(k) : null;
  }

  put(key: unknown, value: unknown): unknown {
    const k = String(key);
    const previous = this.entries.has(k) ? this.entries.get(k) : null;
    this.entries.set(k, value);
    return previous;
  }

  remove(key: unknown): unknown {
    const k = String(key);
    const previous = this.entries.has(k) ? this.entries.get(k) : null;
    this.entries.delete(k);
    return previous;
  }

  containsKey(key: unknown): boolean {
    return key !== null && key !== undefined && this.entries.has(String(key));
  }

  containsValue(value: unknown): boolean {
    return [...this.entries.values()].some((v) => velocityEquals(v, value));
  }

  size(): number {
    return this.entries.size;
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  keySet(): JavaList {
    return JavaList.fromItems([...this.entries.keys()].map((k) => new JavaString(k)));
  }

  values(): JavaList {
    return JavaList.fromItems([...this.entries.values()]);
  }

  entrySet(): JavaList {
    return JavaList.fromItems(
      [...this.entries.entries()].map(([key, value]) => {
        const k = new JavaString(key);
        return { key: k, value, getKey: () => k, getValue: () => value, toString: () => `${key}=${javaToString(value)}` };
      }),
    );
  }

  toString(): string {
    return `{${[...this.entries.entries()].map(([k, v]) => `${k}=${javaToString(v)}`).join(', ')}}`;
  }
}

/** A java.util.List (also stands in for the Set that keySet() returns). */
export class JavaList extends Array<unknown> {
  static fromItems(items: unknown[]): JavaList {
    const list = new JavaList();
    list.push(...items);
    return list;
  }
  size(): number {
    return this.length;
  }
  isEmpty(): boolean {
    return this.length === 0;
  }
  get(index: unknown): unknown {
    const i = javaInt(index, 'get');
    if (i < 0 || i >= this.length) throw new JavaException('IndexOutOfBoundsException', `Index: ${i}, Size: ${this.length}`);
    return this[i];
  }
  contains(value: unknown): boolean {
    return this.some((v) => velocityEquals(v, value));
  }
  override toString(): string {
    return `[${this.map((v) => javaToString(v)).join(', ')}]`;
  }
}

export class JavaException extends Error {
  constructor(readonly javaClass: string, message: string) {
    super(`${javaClass}: ${message}`);
    this.name = javaClass;
  }
}

/**
 * The template could not be rendered. API Gateway answers the caller itself and never
 * calls the integration: `status` is what the caller gets.
 */
export class TemplateTransformationError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'TemplateTransformationError';
  }
}

function unbox(value: unknown): unknown {
  if (value instanceof JavaString) return value.value;
  if (value instanceof JavaBox) return value.value;
  return value;
}

function isStringLike(value: unknown): value is string | JavaString {
  return typeof value === 'string' || value instanceof JavaString;
}

function javaStr(value: unknown, method: string): string {
  if (value === null || value === undefined) throw new JavaException('NullPointerException', `null argument to ${method}`);
  return String(unbox(value));
}

function javaInt(value: unknown, method: string): number {
  const n = unbox(value);
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new JavaException('IllegalArgumentException', `${method} needs an int, got ${String(value)}`);
  return n;
}

/** String.valueOf(Object) as Velocity renders it. */
export function javaToString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => javaToString(v)).join(', ')}]`;
  if (typeof value === 'object' && !(value instanceof JavaString) && !(value instanceof JavaMap) && !(value instanceof JavaBox)) {
    const own = (value as { toString?: unknown }).toString;
    if (own === Object.prototype.toString) {
      return `{${Object.entries(value).filter(([, v]) => typeof v !== 'function').map(([k, v]) => `${k}=${javaToString(v)}`).join(', ')}}`;
    }
  }
  return String(value);
}

/** JSON value -> the objects Jackson/API Gateway hand to Velocity. */
export function toJava(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return new JavaString(value);
  if (Array.isArray(value)) return JavaList.fromItems(value.map(toJava));
  if (typeof value === 'object') return JavaMap.of(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJava(v)]));
  return value;
}

// ---------------------------------------------------------------------------------------
// java.util.regex on top of RegExp
// ---------------------------------------------------------------------------------------

const regexCache = new Map<string, RegExp>();

/** Compiles a java.util.regex pattern; constructs JavaScript cannot express are refused. */
export function javaRegex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  const cached = regexCache.get(key);
  if (cached) {
    cached.lastIndex = 0;
    return cached;
  }
  let source = pattern;
  let extra = '';
  const inline = /^(?:\^\(\?:)?\(\?([imsx]+)\)/.exec(source);
  if (inline) {
    if (inline[1]!.includes('x')) throw new Error(`emulator: inline flag (?x) is not supported in ${pattern}`);
    extra = inline[1]!;
    source = source.replace(`(?${inline[1]})`, '');
  }
  if (/(?<!\\)(?:[*+?}])\+/.test(source)) throw new Error(`emulator: possessive quantifiers are not supported in ${pattern}`);
  if (/\\[AZzGQE]|\\p\{(?:Alpha|Digit|Alnum|Punct|Upper|Lower|Space|XDigit|Graph|Print|Cntrl|ASCII|Blank)\}/.test(source)) {
    throw new Error(`emulator: Java-only regex construct in ${pattern}`);
  }
  let compiled: RegExp;
  try {
    // Java matches code points (a surrogate pair is one character for [^...] and .).
    compiled = new RegExp(source, `${flags}${extra}u`);
  } catch {
    compiled = new RegExp(source, `${flags}${extra}`);
  }
  regexCache.set(key, compiled);
  return compiled;
}

/** Matcher.appendReplacement syntax: `$n`/`${name}` are groups, `\x` is a literal x. */
function javaReplacement(replacement: string, match: unknown[]): string {
  const hasNamed = typeof match[match.length - 1] === 'object' && match[match.length - 1] !== null;
  const named = hasNamed ? (match[match.length - 1] as Record<string, string | undefined>) : {};
  const groups = match.slice(0, hasNamed ? -3 : -2) as Array<string | undefined>;
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === '\\') {
      i++;
      if (i >= replacement.length) throw new JavaException('IllegalArgumentException', 'character to be escaped is missing');
      out += replacement[i];
    } else if (c === '$') {
      i++;
      if (i >= replacement.length) throw new JavaException('IllegalArgumentException', 'Illegal group reference: group index is missing');
      if (replacement[i] === '{') {
        const close = replacement.indexOf('}', i);
        if (close < 0) throw new JavaException('IllegalArgumentException', "named capturing group is missing trailing '}'");
        const name = replacement.slice(i + 1, close);
        if (!(name in named)) throw new JavaException('IllegalArgumentException', `No group with name {${name}}`);
        out += named[name] ?? '';
        i = close;
      } else {
        if (!/[0-9]/.test(replacement[i]!)) throw new JavaException('IllegalArgumentException', 'Illegal group reference');
        let n = Number(replacement[i]);
        if (n >= groups.length) throw new JavaException('IndexOutOfBoundsException', `No group ${n}`);
        while (i + 1 < replacement.length && /[0-9]/.test(replacement[i + 1]!) && n * 10 + Number(replacement[i + 1]) < groups.length) {
          n = n * 10 + Number(replacement[++i]);
        }
        out += groups[n] ?? '';
      }
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// $util
// ---------------------------------------------------------------------------------------

/** Code points of a Java string; a lone surrogate stays a lone surrogate. */
function* codePoints(text: string): Generator<number> {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        yield (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
        i++;
        continue;
      }
    }
    yield c;
  }
}

/** String.getBytes(UTF_8): Java encodes a lone surrogate as '?'. */
export function javaUtf8(text: string): Buffer {
  let safe = '';
  for (const cp of codePoints(text)) safe += cp >= 0xd800 && cp <= 0xdfff ? '?' : String.fromCodePoint(cp);
  return Buffer.from(safe, 'utf8');
}

const URL_SAFE = /[A-Za-z0-9.\-*_]/;

/** java.net.URLEncoder.encode(s, "UTF-8"). */
export function javaUrlEncode(text: string): string {
  let out = '';
  for (const cp of codePoints(text)) {
    const ch = cp >= 0xd800 && cp <= 0xdfff ? '?' : String.fromCodePoint(cp);
    if (ch === ' ') out += '+';
    else if (URL_SAFE.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** java.net.URLDecoder.decode(s, "UTF-8"). */
export function javaUrlDecode(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '+') {
      out += ' ';
      i++;
    } else if (c === '%') {
      const bytes: number[] = [];
      while (i < text.length && text[i] === '%') {
        const hex = text.slice(i + 1, i + 3);
        if (hex.length < 2) throw new JavaException('IllegalArgumentException', 'URLDecoder: Incomplete trailing escape (%) pattern');
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
          throw new JavaException('IllegalArgumentException', `URLDecoder: Illegal hex characters in escape (%) pattern - ${hex}`);
        }
        bytes.push(parseInt(hex, 16));
        i += 3;
      }
      out += Buffer.from(bytes).toString('utf8');
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** commons-lang 2.x StringEscapeUtils.escapeJavaScript: escapes ' and / too, \\uXXXX above 0x7f. */
export function javaEscapeJavaScript(text: string): string {
  const hex = (c: number) => c.toString(16).toUpperCase();
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xfff) out += `\\u${hex(c)}`;
    else if (c > 0xff) out += `\\u0${hex(c)}`;
    else if (c > 0x7f) out += `\\u00${hex(c)}`;
    else if (c < 32) {
      const named: Record<number, string> = { 8: '\\b', 10: '\\n', 9: '\\t', 12: '\\f', 13: '\\r' };
      out += named[c] ?? (c > 0xf ? `\\u00${hex(c)}` : `\\u000${hex(c)}`);
    } else {
      const ch = text[i]!;
      if (ch === "'") out += "\\'";
      else if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '/') out += '\\/';
      else out += ch;
    }
  }
  return out;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function utilArg(value: unknown, fn: string): string {
  if (value === null || value === undefined) throw new JavaException('NullPointerException', `$util.${fn}(null)`);
  return String(unbox(value));
}

/** Parses JSON the way the template functions do; failure is API Gateway's 400. */
function parseJsonOrFail(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TemplateTransformationError(`Could not parse ${what} into json: ${(error as Error).message}`, 400);
  }
}

export function makeUtil() {
  return {
    escapeJavaScript: (s: unknown) => new JavaString(javaEscapeJavaScript(utilArg(s, 'escapeJavaScript'))),
    parseJson: (s: unknown) => toJava(parseJsonOrFail(utilArg(s, 'parseJson'), 'request body')),
    urlEncode: (s: unknown) => new JavaString(javaUrlEncode(utilArg(s, 'urlEncode'))),
    urlDecode: (s: unknown) => new JavaString(javaUrlDecode(utilArg(s, 'urlDecode'))),
    base64Encode: (s: unknown) => new JavaString(javaUtf8(utilArg(s, 'base64Encode')).toString('base64')),
    base64Decode: (s: unknown) => {
      const text = utilArg(s, 'base64Decode');
      if (!STRICT_BASE64.test(text)) throw new JavaException('IllegalArgumentException', 'Illegal base64 character');
      return new JavaString(Buffer.from(text, 'base64').toString('utf8'));
    },
  };
}

// ---------------------------------------------------------------------------------------
// JSONPath subset ($, .name, ['name'], [n], .*, [*])
// ---------------------------------------------------------------------------------------

type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

function parseJsonPath(path: string): PathStep[] {
  if (!path.startsWith('$')) throw new Error(`emulator: JSONPath must start with $: ${path}`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.\*/.exec(rest)) || (m = /^\[\*\]/.exec(rest))) steps.push({ kind: 'wildcard' });
    else if ((m = /^\.([A-Za-z_$][\w$-]*)/.exec(rest))) steps.push({ kind: 'key', key: m[1]! });
    else if ((m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(rest)) || (m = /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest))) steps.push({ kind: 'key', key: m[1]!.replace(/\\(.)/g, '$1') });
    else if ((m = /^\[(\d+)\]/.exec(rest))) steps.push({ kind: 'index', index: Number(m[1]) });
    else throw new Error(`emulator: unsupported JSONPath ${path}`);
    i += m[0].length;
  }
  return steps;
}

const MISSING = Symbol('missing');

function evaluateJsonPath(document: unknown, path: string): unknown {
  let current: unknown[] = [document];
  let definite = true;
  for (const step of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const node of current) {
      if (step.kind === 'wildcard') {
        definite = false;
        if (Array.isArray(node)) next.push(...node);
        else if (node && typeof node === 'object') next.push(...Object.values(node));
      } else if (step.kind === 'index') {
        if (Array.isArray(node) && step.index < node.length) next.push(node[step.index]);
      } else if (node && typeof node === 'object' && !Array.isArray(node) && Object.prototype.hasOwnProperty.call(node, step.key)) {
        next.push((node as Record<string, unknown>)[step.key]);
      }
    }
    current = next;
  }
  if (!definite) return current;
  return current.length === 0 ? MISSING : current[0];
}

// ---------------------------------------------------------------------------------------
// Velocity 1.7 semantics on velocityjs
// ---------------------------------------------------------------------------------------

/** #if / ! / && / ||: Velocity 1.7 treats only null and false as false. */
export function velocityTruthy(value: unknown): boolean {
  const v = value instanceof JavaBox ? value.value : value;
  return !(v === null || v === undefined || v === false);
}

/** ASTEQNode (Velocity 1.7). */
export function velocityEquals(left: unknown, right: unknown): boolean {
  const l = unbox(left);
  const r = unbox(right);
  if (typeof l === 'number' && typeof r === 'number') return l === r;
  if (l === null || l === undefined || r === null || r === undefined) {
    return (l === null || l === undefined) && (r === null || r === undefined);
  }
  if (typeof l === 'string' && typeof r === 'string') return l === r;
  if (typeof l === 'object' && typeof r === 'object') {
    if (l === r) return true;
    if (l.constructor === r.constructor) return javaToString(l) === javaToString(r);
  }
  return javaToString(l) === javaToString(r);
}

function box(value: unknown): unknown {
  if (typeof value === 'string') return new JavaString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return new JavaBox(value);
  return value;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ast = any;

/** The parts of velocityjs's Compile this file overrides or calls. */
interface VelocityInternals {
  context: Record<string, unknown>;
  local: Record<string, Record<string, unknown>>;
  conditions: string[];
  contextId: string;
  runState: { stop: boolean; break: boolean };
  silence: boolean;
  render(context?: Record<string, unknown>, macros?: unknown, silence?: boolean): string;
  renderAstList(asts?: Ast[], contextId?: string): string;
  getReferences(ast: Ast, isVal?: boolean): unknown;
  getAttributes(property: Ast, baseRef: unknown, ast: Ast): unknown;
  getPropMethod(property: Ast, baseRef: unknown, ast: Ast): unknown;
  getLiteral(ast: Ast): unknown;
  getString(ast: Ast): unknown;
  getExpression(ast: Ast): unknown;
  getContext(id: string): Record<string, unknown>;
}
const VelocityCompile = Compile as unknown as new (asts: Ast[], config?: object) => VelocityInternals;

let loopSequence = 0;

class Velocity17 extends VelocityCompile {
  override getReferences(ast: Ast, isVal?: boolean): unknown {
    const value = super.getReferences(ast, isVal);
    if (isVal && value === null) return this.silence || ast.leader === '$!' ? '' : Helper.getRefText(ast);
    return value;
  }

  override getString(literal: Ast): unknown {
    const value = super.getString(literal);
    return typeof value === 'string' ? new JavaString(value) : value;
  }

  override getAttributes(property: Ast, baseRef: unknown, ast: Ast): unknown {
    if (baseRef === null || baseRef === undefined) return undefined;
    if (property.type === 'property') {
      if (baseRef instanceof JavaMap) return baseRef.get(property.id);
      if (baseRef instanceof JavaString || baseRef instanceof JavaBox || typeof baseRef !== 'object') {
        // $s.empty -> isEmpty(), $s.bytes -> getBytes(): property-style getters on scalars.
        const target = box(baseRef) as Record<string, unknown>;
        const cap = String(property.id).charAt(0).toUpperCase() + String(property.id).slice(1);
        for (const name of [`get${cap}`, `is${cap}`]) {
          if (typeof target[name] === 'function') return (target[name] as () => unknown).call(target);
        }
        return undefined;
      }
    }
    if (property.type === 'index') {
      const key = unbox(property.id.type === 'references' ? this.getReferences(property.id) : this.getLiteral(property.id));
      if (baseRef instanceof JavaMap) return baseRef.get(key);
      if (baseRef instanceof JavaList) return baseRef.get(key);
    }
    if (property.type === 'method') return this.getPropMethod(property, box(baseRef), ast);
    return super.getAttributes(property, baseRef, ast);
  }

  override getExpression(ast: Ast): unknown {
    if (ast.type !== 'math') return this.getLiteral(ast);
    const [a, b] = ast.expression as Ast[];
    const left = () => unbox(this.getExpression(a));
    const right = () => unbox(this.getExpression(b));
    switch (ast.operator) {
      case 'parenthesis':
        return this.getExpression(a);
      case 'not':
        return !velocityTruthy(this.getExpression(a));
      case '&&':
        return velocityTruthy(this.getExpression(a)) && velocityTruthy(this.getExpression(b));
      case '||':
        return velocityTruthy(this.getExpression(a)) || velocityTruthy(this.getExpression(b));
      case '==':
        return velocityEquals(this.getExpression(a), this.getExpression(b));
      case '!=':
        return !velocityEquals(this.getExpression(a), this.getExpression(b));
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const l = left();
        const r = right();
        // Velocity 1.7 compares numbers only; anything else logs an error and is false.
        if (typeof l !== 'number' || typeof r !== 'number') return false;
        return ast.operator === '<' ? l < r : ast.operator === '>' ? l > r : ast.operator === '<=' ? l <= r : l >= r;
      }
      case 'minus': {
        const v = left();
        return typeof v === 'number' ? -v : null;
      }
      case '+': {
        const l = this.getExpression(a);
        const r = this.getExpression(b);
        if (isStringLike(l) || isStringLike(r)) {
          if (l === null || l === undefined || r === null || r === undefined) return null;
          return new JavaString(javaToString(unbox(l)) + javaToString(unbox(r)));
        }
        const ln = unbox(l);
        const rn = unbox(r);
        return typeof ln === 'number' && typeof rn === 'number' ? ln + rn : null;
      }
      case '-':
      case '*':
      case '/':
      case '%': {
        const l = left();
        const r = right();
        if (typeof l !== 'number' || typeof r !== 'number') return null;
        const integral = Number.isInteger(l) && Number.isInteger(r);
        if (ast.operator === '-') return l - r;
        if (ast.operator === '*') return l * r;
        if (r === 0 && integral) return null; // Velocity logs division by zero and yields null
        if (ast.operator === '/') return integral ? Math.trunc(l / r) : l / r;
        return l % r;
      }
      default:
        throw new Error(`emulator: unsupported operator ${String(ast.operator)}`);
    }
  }

  getBlockIf(block: Ast[]): string {
    let received = false;
    const body: Ast[] = [];
    block.some((ast) => {
      const hasCondition = ast.type === 'elseif' || ast.type === 'if';
      if (!(hasCondition || ast.type === 'else')) {
        if (received) body.push(ast);
        return false;
      }
      if (received) return true;
      received = hasCondition ? velocityTruthy(this.getExpression(ast.condition)) : true;
      return false;
    });
    return this.renderAstList(body, this.contextId);
  }

  getBlockEach(block: Ast[]): string {
    const ast = block[0];
    const from = this.getLiteral({ ...ast.from, pos: ast.pos });
    let items: unknown[];
    if (from === null || from === undefined) return '';
    if (from instanceof JavaMap) items = from.values();
    else if (Array.isArray(from)) items = [...from];
    else throw new Error(`emulator: cannot #foreach over ${javaToString(from)}`);
    if (items.length === 0) return '';
    const contextId = `foreach:v17:${++loopSequence}`;
    const local: Record<string, unknown> = {};
    let out = '';
    items.forEach((value, i) => {
      if (this.runState.break) return;
      local[ast.to] = value;
      local.foreach = { count: i + 1, index: i, hasNext: i + 1 < items.length, first: i === 0, last: i + 1 === items.length };
      local.velocityCount = i + 1;
      this.local[contextId] = local;
      out += this.renderAstList(block.slice(1), contextId);
    });
    this.runState.break = false;
    this.local[contextId] = {};
    this.conditions.shift();
    this.contextId = this.conditions[0] || '';
    return out;
  }

  setValue(ast: Ast): void {
    const [ref, valueAst] = ast.equal as [Ast, Ast];
    const value = valueAst.type === 'math' ? this.getExpression(valueAst) : this.getLiteral(valueAst);
    // Velocity 1.7 (directive.set.null.allowed=false): a null right-hand side leaves the left unchanged.
    if (value === null || value === undefined) return;
    const path: Ast[] = ref.path ?? [];
    if (path.length === 0) {
      this.getContext(ref.id)[ref.id] = value;
      return;
    }
    const last = path[path.length - 1];
    const base = this.getReferences({ ...ref, path: path.slice(0, -1), leader: '$' }, false);
    if (base === null || base === undefined || typeof base !== 'object') return;
    const key = last.type === 'property' ? String(last.id) : String(unbox(this.getLiteral(last.id)));
    if (base instanceof JavaMap) base.put(key, value);
    else (base as Record<string, unknown>)[key] = value;
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Parses and renders with Velocity 1.7 semantics; throws on parse errors and template failures. */
export function renderVelocity(template: string, context: Record<string, unknown>): string {
  const asts = parse(template) as Ast[];
  const engine = new Velocity17(asts, { escape: false });
  return engine.render(context);
}

// ---------------------------------------------------------------------------------------
// API Gateway: template selection, $input, $context
// ---------------------------------------------------------------------------------------

export interface EmulatedRequest {
  readonly method: string;
  /** The resource path the client called, without the stage, e.g. '/github-webhook/'. */
  readonly path: string;
  readonly stage: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Query parameters, already decoded. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly pathParameters?: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly requestTimeEpoch: number;
}

export interface EmulatedContext {
  requestId: string;
  requestTimeEpoch: number;
  httpMethod: string;
  /** '/' + stage + request path, as API Gateway reports it. */
  path: string;
  resourcePath: string;
  stage: string;
  accountId: string;
  apiId: string;
  identity: { sourceIp: string; userAgent: string | null };
}

export interface RenderResult {
  readonly output: string;
  /** $context.responseOverride.status, when the template set it. */
  readonly statusOverride?: number;
  readonly headerOverrides: Readonly<Record<string, string>>;
}

/** The media type without parameters, lower-cased. */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * How the Content-Type header is matched against request-template keys. AWS documents only that
 * the template is chosen by the Content-Type, so both readings are modelled:
 * - 'media-type': the media type, case-insensitive, parameters ignored;
 * - 'whole-value': the whole header value must equal a key exactly (LocalStack's reading).
 */
export type TemplateMatching = 'media-type' | 'whole-value';

/**
 * Request template selection with passthroughBehavior NEVER: no Content-Type means
 * application/json; no matching template is 415 Unsupported Media Type. When several keys share
 * a media type their templates must be identical: which one API Gateway would pick is not modelled.
 */
export function selectRequestTemplate(
  templates: Readonly<Record<string, string>>,
  contentType: string | undefined,
  matching: TemplateMatching = 'media-type',
): { template: string } | { status: 415 } {
  const value = contentType?.trim() ?? '';
  if (matching === 'whole-value') {
    const key = value === '' ? 'application/json' : value;
    return Object.hasOwn(templates, key) ? { template: templates[key]! } : { status: 415 };
  }
  const wanted = value === '' ? 'application/json' : mediaType(value);
  const matches = [...new Set(Object.entries(templates).filter(([type]) => mediaType(type) === wanted).map(([, template]) => template))];
  if (matches.length > 1) throw new Error(`emulator: templates for ${wanted} differ; which one API Gateway picks is not modelled`);
  return matches.length === 1 ? { template: matches[0]! } : { status: 415 };
}

/** Last value wins for repeated names, in the order first seen (LinkedHashMap.put). */
function paramMap(pairs: ReadonlyArray<readonly [string, string]>): JavaMap {
  const map = new JavaMap();
  for (const [name, value] of pairs) map.put(name, new JavaString(value));
  return map;
}

function makeInput(body: string, params: { path: JavaMap; querystring: JavaMap; header: JavaMap }, what: string) {
  let parsed: { value: unknown } | undefined;
  const document = () => {
    if (!parsed) parsed = { value: body.trim() === '' ? {} : parseJsonOrFail(body, what) };
    return parsed.value;
  };
  const all = JavaMap.of([
    ['path', params.path],
    ['querystring', params.querystring],
    ['header', params.header],
  ]);
  return {
    body: new JavaString(body),
    json(path: unknown): JavaString {
      const result = evaluateJsonPath(document(), javaStr(path, '$input.json'));
      return new JavaString(result === MISSING ? '' : JSON.stringify(result));
    },
    path(path: unknown): unknown {
      const result = evaluateJsonPath(document(), javaStr(path, '$input.path'));
      return result === MISSING ? null : toJava(result);
    },
    params(name?: unknown): unknown {
      if (name === undefined) return all;
      const key = javaStr(name, '$input.params');
      if (params.path.containsKey(key)) return params.path.get(key);
      if (params.querystring.containsKey(key)) return params.querystring.get(key);
      const header = (params.header.keySet() as unknown[]).find((k) => String(k).toLowerCase() === key.toLowerCase());
      return header === undefined ? new JavaString('') : params.header.get(header);
    },
  };
}

function headerOf(request: Pick<EmulatedRequest, 'headers'>, name: string): string | undefined {
  return request.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

function contextObject(context: EmulatedContext) {
  const responseOverride = { status: undefined as unknown, header: new JavaMap() };
  const object = {
    requestId: new JavaString(context.requestId),
    requestTimeEpoch: context.requestTimeEpoch,
    httpMethod: new JavaString(context.httpMethod),
    path: new JavaString(context.path),
    resourcePath: new JavaString(context.resourcePath),
    stage: new JavaString(context.stage),
    accountId: new JavaString(context.accountId),
    apiId: new JavaString(context.apiId),
    identity: {
      sourceIp: new JavaString(context.identity.sourceIp),
      userAgent: context.identity.userAgent === null ? null : new JavaString(context.identity.userAgent),
    },
    responseOverride,
  };
  return { object, responseOverride };
}

function overrides(responseOverride: { status: unknown; header: JavaMap }) {
  const status = unbox(responseOverride.status);
  let statusOverride: number | undefined;
  if (status !== undefined && status !== null) {
    statusOverride = Number(status);
    if (!Number.isInteger(statusOverride)) throw new TemplateTransformationError(`invalid status override ${String(status)}`, 500);
  }
  const headerOverrides: Record<string, string> = {};
  for (const key of responseOverride.header.keySet()) headerOverrides[String(key)] = javaToString(responseOverride.header.get(key));
  return { statusOverride, headerOverrides };
}

/** Resource path of a request path: API Gateway resources never end with '/'. */
function resourcePathOf(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function emulatedContext(request: EmulatedRequest, context: Partial<EmulatedContext>): EmulatedContext {
  return {
    requestId: request.requestId,
    requestTimeEpoch: request.requestTimeEpoch,
    httpMethod: request.method,
    path: `/${request.stage}${request.path}`,
    resourcePath: resourcePathOf(request.path),
    stage: request.stage,
    accountId: '123456789012',
    apiId: 'abcdef1234',
    identity: { sourceIp: request.sourceIp, userAgent: headerOf(request, 'user-agent') ?? null },
    ...context,
  };
}

/** Renders a request mapping template; returns the integration request body and overrides. */
export function renderRequestTemplate(
  template: string,
  request: EmulatedRequest,
  context: Partial<EmulatedContext> = {},
): RenderResult {
  const ctx = emulatedContext(request, context);
  const params = {
    path: JavaMap.of(Object.entries(request.pathParameters ?? {}).map(([k, v]) => [k, new JavaString(v)])),
    querystring: paramMap(request.query),
    header: paramMap(request.headers),
  };
  const { object, responseOverride } = contextObject(ctx);
  const output = renderVelocity(template, {
    input: makeInput(request.body.toString('utf8'), params, 'request body'),
    util: makeUtil(),
    context: object,
    stageVariables: new JavaMap(),
  });
  return { output, ...overrides(responseOverride) };
}

/** Renders a request mapping template to the integration request body. */
export function renderTemplate(template: string, request: EmulatedRequest, context: Partial<EmulatedContext> = {}): string {
  return renderRequestTemplate(template, request, context).output;
}

/** Renders an integration response template against the integration's response body. */
export function renderResponseTemplate(
  template: string,
  integrationBody: string,
  context: Partial<EmulatedContext> = {},
): { body: string; statusOverride?: number; headerOverrides: Readonly<Record<string, string>> } {
  const ctx: EmulatedContext = {
    requestId: '00000000-0000-4000-8000-000000000000',
    requestTimeEpoch: 0,
    httpMethod: 'POST',
    path: '/',
    resourcePath: '/',
    stage: 'live',
    accountId: '123456789012',
    apiId: 'abcdef1234',
    identity: { sourceIp: '127.0.0.1', userAgent: null },
    ...context,
  };
  const { object, responseOverride } = contextObject(ctx);
  const empty = { path: new JavaMap(), querystring: new JavaMap(), header: new JavaMap() };
  const body = renderVelocity(template, {
    input: makeInput(integrationBody, empty, 'response body'),
    util: makeUtil(),
    context: object,
    stageVariables: new JavaMap(),
  });
  const { statusOverride, headerOverrides } = overrides(responseOverride);
  return statusOverride === undefined ? { body, headerOverrides } : { body, statusOverride, headerOverrides };
}
