// A Go text/template engine for the templates prometheus-adapter configs hold (metricsQuery,
// containerQuery, nodeQuery, resources.template), with its `<<` `>>` delimiters. It covers the
// language those configs use: fields (.Series, .GroupBySlice), variables ($, $i, $v), pipelines,
// parenthesised arguments, if/else if/else, range (with index and element variables, else),
// with, break/continue, trim markers (<<- ->>), comments, and Go's built-in functions except
// call/html/js/urlquery. define/template/block are refused: no config uses them.
//
// Parse errors carry line:column; execution errors name the field. Templates are parsed once at
// load time and executed per request, so execution is a plain tree walk over small ASTs.

export class TemplateError extends Error {}

/** Data with named fields, like a Go struct: an unknown field is an error, not a missing key. */
export class TemplateStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {}
}

type Arg =
  | { kind: "dot" }
  | { kind: "field"; chain: string[]; pos: number } // .A.B on dot
  | { kind: "var"; name: string; chain: string[]; pos: number } // $x.A
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "nil" }
  | { kind: "func"; name: string; pos: number }
  | { kind: "pipe"; pipe: Pipe; chain: string[] };

interface Command {
  args: Arg[];
}
interface Pipe {
  decl: string[];
  assign: boolean; // `=` rather than `:=`
  cmds: Command[];
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipe }
  | { kind: "if" | "with"; pipe: Pipe; list: Node[]; elseList: Node[] | undefined }
  | { kind: "range"; pipe: Pipe; list: Node[]; elseList: Node[] | undefined }
  | { kind: "break" | "continue" };

export interface FieldUse {
  chain: string[];
  /** True when the field is read from the template's top-level data (dot not rebound by range/with). */
  onRoot: boolean;
  line: number;
  col: number;
}

const BUILTINS = new Set([
  "and",
  "or",
  "not",
  "len",
  "index",
  "slice",
  "print",
  "printf",
  "println",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
]);
const UNSUPPORTED_FUNCS = new Set(["call", "html", "js", "urlquery"]);

// ---------------------------------------------------------------- lexing

type Tok =
  | { t: "text"; v: string; pos: number }
  | { t: "open"; pos: number } // start of an action
  | { t: "close"; pos: number }
  | { t: "space"; pos: number }
  | { t: "ident"; v: string; pos: number }
  | { t: "field"; v: string; pos: number } // ".Name"
  | { t: "dot"; pos: number }
  | { t: "var"; v: string; pos: number } // "$x" or "$"
  | { t: "string"; v: string; pos: number }
  | { t: "number"; v: number; pos: number }
  | { t: "char"; v: number; pos: number }
  | { t: "declare" | "assign" | "pipe" | "lparen" | "rparen" | "comma"; pos: number };

const LEFT = "<<";
const RIGHT = ">>";

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}
function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function lex(src: string, where: (pos: number) => string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let trimNextText = false;
  while (i < src.length) {
    let open = src.indexOf(LEFT, i);
    if (open < 0) open = src.length;
    let text = src.slice(i, open);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, "");
    trimNextText = false;
    let j = open + LEFT.length;
    if (open < src.length && src[j] === "-" && isSpace(src[j + 1])) {
      text = text.replace(/[ \t\r\n]+$/, "");
      j += 2;
    }
    if (text !== "") toks.push({ t: "text", v: text, pos: i });
    if (open >= src.length) break;
    // comment: <</* ... */>>
    let k = j;
    while (isSpace(src[k])) k++;
    if (src.startsWith("/*", k)) {
      const end = src.indexOf("*/", k + 2);
      if (end < 0) throw new TemplateError(`${where(open)}: unclosed comment`);
      let after = end + 2;
      while (isSpace(src[after])) after++;
      if (src.startsWith("-" + RIGHT, after)) {
        trimNextText = true;
        after += 1;
      }
      if (!src.startsWith(RIGHT, after))
        throw new TemplateError(`${where(open)}: comment ends before closing delimiter`);
      i = after + RIGHT.length;
      continue;
    }
    toks.push({ t: "open", pos: open });
    i = lexAction(src, j, toks, where, (trim) => (trimNextText = trim));
  }
  return toks;
}

function lexAction(
  src: string,
  start: number,
  toks: Tok[],
  where: (pos: number) => string,
  setTrim: (b: boolean) => void,
): number {
  let i = start;
  let parens = 0;
  for (;;) {
    if (i >= src.length) throw new TemplateError(`${where(start)}: unclosed action`);
    const c = src[i];
    if (isSpace(c)) {
      let k = i;
      while (isSpace(src[k])) k++;
      if (src.startsWith("-" + RIGHT, k)) {
        setTrim(true);
        toks.push({ t: "close", pos: k });
        return k + 1 + RIGHT.length;
      }
      toks.push({ t: "space", pos: i });
      i = k;
      continue;
    }
    if (src.startsWith(RIGHT, i) && parens === 0) {
      toks.push({ t: "close", pos: i });
      return i + RIGHT.length;
    }
    if (src.startsWith(":=", i)) {
      toks.push({ t: "declare", pos: i });
      i += 2;
      continue;
    }
    switch (c) {
      case "=":
        toks.push({ t: "assign", pos: i });
        i++;
        continue;
      case "|":
        toks.push({ t: "pipe", pos: i });
        i++;
        continue;
      case "(":
        parens++;
        toks.push({ t: "lparen", pos: i });
        i++;
        continue;
      case ")":
        parens--;
        if (parens < 0) throw new TemplateError(`${where(i)}: unexpected right paren`);
        toks.push({ t: "rparen", pos: i });
        i++;
        continue;
      case ",":
        toks.push({ t: "comma", pos: i });
        i++;
        continue;
      case '"': {
        let k = i + 1;
        while (k < src.length && src[k] !== '"') {
          if (src[k] === "\\") k++;
          if (src[k] === "\n") throw new TemplateError(`${where(i)}: unterminated quoted string`);
          k++;
        }
        if (k >= src.length) throw new TemplateError(`${where(i)}: unterminated quoted string`);
        toks.push({ t: "string", v: unquoteGo(src.slice(i, k + 1), where(i)), pos: i });
        i = k + 1;
        continue;
      }
      case "`": {
        const end = src.indexOf("`", i + 1);
        if (end < 0) throw new TemplateError(`${where(i)}: unterminated raw quoted string`);
        toks.push({ t: "string", v: src.slice(i + 1, end), pos: i });
        i = end + 1;
        continue;
      }
      case "'": {
        const m = /^'(\\.|[^'\\])'/.exec(src.slice(i));
        if (!m) throw new TemplateError(`${where(i)}: bad character constant`);
        const s = unquoteGo(`"${m[1]}"`, where(i));
        toks.push({ t: "char", v: s.codePointAt(0) ?? 0, pos: i });
        i += m[0].length;
        continue;
      }
      case "$": {
        let k = i + 1;
        while (isAlnum(src[k])) k++;
        toks.push({ t: "var", v: src.slice(i, k), pos: i });
        i = k;
        continue;
      }
      case ".": {
        if (/[0-9]/.test(src[i + 1] ?? "")) break; // a number like .5
        let k = i + 1;
        while (isAlnum(src[k])) k++;
        if (k === i + 1) toks.push({ t: "dot", pos: i });
        else toks.push({ t: "field", v: src.slice(i + 1, k), pos: i });
        i = k;
        continue;
      }
    }
    const num =
      /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?)/.exec(
        src.slice(i),
      );
    if (num && num[0] !== "" && /[0-9]/.test(num[0])) {
      const text = num[0].replace(/_/g, "");
      const v = /^[+-]?0[xXbBoO]/.test(text)
        ? Number(text.replace(/^([+-]?)0([xXbBoO])/, (_m, s: string, b: string) => `${s}0${b.toLowerCase()}`))
        : Number(text);
      if (Number.isNaN(v)) throw new TemplateError(`${where(i)}: bad number syntax: ${num[0]}`);
      toks.push({ t: "number", v, pos: i });
      i += num[0].length;
      continue;
    }
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      let k = i;
      while (isAlnum(src[k])) k++;
      toks.push({ t: "ident", v: src.slice(i, k), pos: i });
      i = k;
      continue;
    }
    throw new TemplateError(`${where(i)}: unexpected ${JSON.stringify(c)} in action`);
  }
}

function unquoteGo(quoted: string, where: string): string {
  const body = quoted.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      "\\": "\\",
      '"': '"',
      "'": "'",
      a: "\x07",
      b: "\b",
      f: "\f",
      v: "\v",
    };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    const hexLen = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLen)
        throw new TemplateError(`${where}: invalid escape in string`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += hexLen;
      continue;
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new TemplateError(`${where}: invalid escape in string`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
      continue;
    }
    throw new TemplateError(`${where}: invalid escape \\${e ?? ""} in string`);
  }
  return out;
}

// ---------------------------------------------------------------- parsing

class Parser {
  private i = 0;
  private scopes: string[][] = [["$"]];
  readonly fields: FieldUse[] = [];
  private dotRebound = 0;

  constructor(
    private readonly toks: Tok[],
    private readonly where: (pos: number) => string,
    private readonly lineCol: (pos: number) => { line: number; col: number },
  ) {}

  parseTemplate(): Node[] {
    const { list, end } = this.parseList();
    if (end !== undefined) throw new TemplateError(`${this.where(end.pos)}: unexpected {{${end.word}}}`);
    return list;
  }

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private next(): Tok | undefined {
    return this.toks[this.i++];
  }
  private skipSpace(): void {
    while (this.peek()?.t === "space") this.i++;
  }
  private fail(pos: number | undefined, msg: string): never {
    throw new TemplateError(`${this.where(pos ?? 0)}: ${msg}`);
  }

  /** Parses nodes until EOF or a bare `end`/`else` action, which it returns. */
  private parseList(): { list: Node[]; end?: { word: "end" | "else"; pos: number } } {
    const list: Node[] = [];
    for (;;) {
      const tok = this.next();
      if (tok === undefined) return { list };
      if (tok.t === "text") {
        list.push({ kind: "text", text: tok.v });
        continue;
      }
      if (tok.t !== "open") this.fail(tok.pos, "unexpected token");
      this.skipSpace();
      const kw = this.peek();
      if (kw?.t === "ident") {
        switch (kw.v) {
          case "end":
            this.i++;
            this.expectClose();
            return { list, end: { word: "end", pos: kw.pos } };
          case "else":
            this.i++;
            // leave the rest of the action (e.g. "if x") to the caller
            return { list, end: { word: "else", pos: kw.pos } };
          case "if":
          case "with":
          case "range":
            this.i++;
            list.push(this.parseControl(kw.v, kw.pos));
            continue;
          case "break":
          case "continue":
            this.i++;
            this.expectClose();
            list.push({ kind: kw.v });
            continue;
          case "define":
          case "template":
          case "block":
            this.fail(kw.pos, `{{${kw.v}}} is not supported in adapter templates`);
        }
      }
      const pipe = this.parsePipe(true);
      list.push({ kind: "action", pipe });
    }
  }

  private expectClose(): void {
    this.skipSpace();
    const t = this.next();
    if (t?.t !== "close") this.fail(t?.pos, "unexpected content before closing delimiter");
  }

  private parseControl(word: "if" | "with" | "range", pos: number): Node {
    this.scopes.push([]);
    const pipe = this.parsePipe(true, word === "range");
    if (word !== "if") this.dotRebound++;
    const body = this.parseList();
    if (word !== "if") this.dotRebound--;
    if (body.end === undefined) this.fail(pos, `unexpected EOF: missing {{end}} for {{${word}}}`);
    let elseList: Node[] | undefined;
    if (body.end.word === "else") {
      this.skipSpace();
      const nxt = this.peek();
      if (nxt?.t === "ident" && (nxt.v === "if" || nxt.v === "with") && word !== "range") {
        // `else if` / `else with`: a nested control whose {{end}} also ends this one
        this.i++;
        elseList = [this.parseControl(nxt.v, nxt.pos)];
      } else {
        this.expectClose();
        const rest = this.parseList();
        if (rest.end?.word !== "end") this.fail(pos, `missing {{end}} for {{${word}}}`);
        elseList = rest.list;
      }
    }
    this.scopes.pop();
    return { kind: word, pipe, list: body.list, elseList } as Node;
  }

  private parsePipe(untilClose: boolean, isRange = false): Pipe {
    this.skipSpace();
    const decl: string[] = [];
    let assign = false;
    // declarations: $x :=  /  $i, $v :=  /  $x =
    const save = this.i;
    const first = this.peek();
    if (first?.t === "var") {
      this.i++;
      this.skipSpace();
      const op = this.peek();
      if (op?.t === "declare" || op?.t === "assign") {
        decl.push(first.v);
        assign = op.t === "assign";
        this.i++;
      } else if (op?.t === "comma" && isRange) {
        this.i++;
        this.skipSpace();
        const second = this.next();
        if (second?.t !== "var") this.fail(op.pos, "range can only initialize variables");
        this.skipSpace();
        const op2 = this.next();
        if (op2?.t !== "declare" && op2?.t !== "assign")
          this.fail(second.pos, "expected := after range variables");
        decl.push(first.v, second.v);
        assign = op2.t === "assign";
      } else {
        this.i = save;
      }
    }
    if (decl.length > 0) {
      if (assign) for (const d of decl) this.checkVar(d, first?.pos);
    }
    const cmds: Command[] = [];
    for (;;) {
      this.skipSpace();
      const t = this.peek();
      if (t === undefined) this.fail(undefined, "unclosed action");
      if ((untilClose && t.t === "close") || (!untilClose && t.t === "rparen")) {
        this.i++;
        break;
      }
      cmds.push(this.parseCommand(untilClose));
      this.skipSpace();
      const sep = this.peek();
      if (sep?.t === "pipe") {
        this.i++;
        continue;
      }
    }
    if (cmds.length === 0) this.fail(undefined, "missing value for command");
    if (!assign) {
      const scope = this.scopes[this.scopes.length - 1];
      for (const d of decl) scope?.push(d);
    }
    return { decl, assign, cmds };
  }

  private checkVar(name: string, pos: number | undefined): void {
    for (const s of this.scopes) if (s.includes(name)) return;
    this.fail(pos, `undefined variable "${name}"`);
  }

  private parseCommand(untilClose: boolean): Command {
    const args: Arg[] = [];
    for (;;) {
      this.skipSpace();
      const t = this.peek();
      if (t === undefined) this.fail(undefined, "unclosed action");
      if (t.t === "close" || t.t === "pipe" || t.t === "rparen") {
        if (t.t === "close" && !untilClose) this.fail(t.pos, "unclosed left paren");
        break;
      }
      args.push(this.parseOperand());
    }
    if (args.length === 0) this.fail(this.peek()?.pos, "missing command");
    return { args };
  }

  private parseChain(): string[] {
    const chain: string[] = [];
    while (this.peek()?.t === "field") {
      const f = this.next() as { v: string };
      chain.push(f.v);
    }
    return chain;
  }

  private parseOperand(): Arg {
    const t = this.next();
    if (t === undefined) this.fail(undefined, "unexpected EOF");
    switch (t.t) {
      case "dot":
        return { kind: "dot" };
      case "field": {
        const chain = [t.v, ...this.parseChain()];
        const lc = this.lineCol(t.pos);
        this.fields.push({ chain, onRoot: this.dotRebound === 0, ...lc });
        return { kind: "field", chain, pos: t.pos };
      }
      case "var": {
        this.checkVar(t.v, t.pos);
        return { kind: "var", name: t.v, chain: this.parseChain(), pos: t.pos };
      }
      case "string":
        return { kind: "string", value: t.v };
      case "number":
      case "char":
        return { kind: "number", value: t.v };
      case "lparen": {
        const pipe = this.parsePipe(false);
        return { kind: "pipe", pipe, chain: this.parseChain() };
      }
      case "ident": {
        if (t.v === "true" || t.v === "false") return { kind: "bool", value: t.v === "true" };
        if (t.v === "nil") return { kind: "nil" };
        if (UNSUPPORTED_FUNCS.has(t.v))
          this.fail(t.pos, `function "${t.v}" is not supported in adapter templates`);
        if (!BUILTINS.has(t.v)) this.fail(t.pos, `function "${t.v}" not defined`);
        return { kind: "func", name: t.v, pos: t.pos };
      }
      default:
        this.fail(t.pos, `unexpected ${t.t} in operand`);
    }
  }
}

// ---------------------------------------------------------------- execution

class BreakSignal {}
class ContinueSignal {}

type Vars = { name: string; value: unknown }[];

function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof TemplateStruct) return true;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function formatGoNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(n);
}

function printValue(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatGoNumber(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(" ")}]`;
  if (v instanceof TemplateStruct) return `{${Object.values(v.fields).map(printValue).join(" ")}}`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${printValue(o[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}

function goSprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(
    /%([-+# 0]*)(\d+)?(?:\.(\d+))?([%vsdqfgtxX])/g,
    (_m, _flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
      if (verb === "%") return "%";
      if (ai >= args.length) return `%!${verb}(MISSING)`;
      const a = args[ai++];
      let s: string;
      switch (verb) {
        case "d":
          s = typeof a === "number" ? String(Math.trunc(a)) : `%!d(${printValue(a)})`;
          break;
        case "f":
          s =
            typeof a === "number"
              ? a.toFixed(prec !== undefined ? Number(prec) : 6)
              : `%!f(${printValue(a)})`;
          break;
        case "g":
          s = typeof a === "number" ? String(a) : `%!g(${printValue(a)})`;
          break;
        case "q":
          s = JSON.stringify(printValue(a));
          break;
        case "x":
        case "X":
          s = typeof a === "number" ? a.toString(16) : Buffer.from(printValue(a)).toString("hex");
          if (verb === "X") s = s.toUpperCase();
          break;
        default:
          s = printValue(a);
      }
      if (width !== undefined) s = s.padStart(Number(width));
      return s;
    },
  );
}

function compare(name: string, a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (name === "eq" || name === "ne") {
    if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : 1;
    if ((a === null || a === undefined) && (b === null || b === undefined)) return 0;
  }
  throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
}

function indexValue(v: unknown, key: unknown): unknown {
  if (Array.isArray(v) || typeof v === "string") {
    if (typeof key !== "number" || !Number.isInteger(key))
      throw new TemplateError("error calling index: cannot index slice/array with non-integer");
    if (key < 0 || key >= v.length)
      throw new TemplateError(`error calling index: index out of range: ${key}`);
    return typeof v === "string" ? v.charCodeAt(key) : v[key];
  }
  if (v !== null && typeof v === "object" && !(v instanceof TemplateStruct)) {
    if (typeof key !== "string")
      throw new TemplateError("error calling index: value has type int; should be string");
    const o = v as Record<string, unknown>;
    return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
  }
  throw new TemplateError(`error calling index: can't index item of type ${describeType(v)}`);
}

function describeType(v: unknown): string {
  if (v instanceof TemplateStruct) return v.typeName;
  if (Array.isArray(v)) return "slice";
  if (v === null || v === undefined) return "nil";
  return typeof v;
}

function callBuiltin(name: string, args: unknown[], evalLazy: ((i: number) => unknown) | undefined): unknown {
  const need = (n: number): void => {
    if (args.length !== n)
      throw new TemplateError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
  };
  switch (name) {
    case "and": {
      if (args.length === 0 && !evalLazy)
        throw new TemplateError("wrong number of args for and: want at least 1 got 0");
      let last: unknown;
      for (let i = 0; i < args.length; i++) {
        last = evalLazy ? evalLazy(i) : args[i];
        if (!truth(last)) return last;
      }
      return last;
    }
    case "or": {
      let last: unknown;
      for (let i = 0; i < args.length; i++) {
        last = evalLazy ? evalLazy(i) : args[i];
        if (truth(last)) return last;
      }
      return last;
    }
    case "not":
      need(1);
      return !truth(args[0]);
    case "len": {
      need(1);
      const v = args[0];
      if (typeof v === "string" || Array.isArray(v)) return v.length;
      if (v !== null && typeof v === "object" && !(v instanceof TemplateStruct)) return Object.keys(v).length;
      throw new TemplateError(`error calling len: len of type ${describeType(v)}`);
    }
    case "index": {
      if (args.length < 1) throw new TemplateError("wrong number of args for index: want at least 1 got 0");
      let v = args[0];
      for (const k of args.slice(1)) v = indexValue(v, k);
      return v;
    }
    case "slice": {
      const [v, ...idx] = args;
      if (typeof v !== "string" && !Array.isArray(v))
        throw new TemplateError(`error calling slice: can't slice item of type ${describeType(v)}`);
      const nums = idx.map((x) => {
        if (typeof x !== "number") throw new TemplateError("error calling slice: non-integer index");
        return x;
      });
      const from = nums[0] ?? 0;
      const to = nums[1] ?? v.length;
      if (from < 0 || to > v.length || from > to)
        throw new TemplateError(`error calling slice: index out of range`);
      return v.slice(from, to);
    }
    case "print":
      return args
        .map(
          (a, i) =>
            (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string" ? " " : "") + printValue(a),
        )
        .join("");
    case "println":
      return args.map(printValue).join(" ") + "\n";
    case "printf": {
      if (typeof args[0] !== "string")
        throw new TemplateError("error calling printf: format must be a string");
      return goSprintf(args[0], args.slice(1));
    }
    case "eq": {
      if (args.length < 2) throw new TemplateError("missing argument for comparison");
      return args.slice(1).some((b) => compare(name, args[0], b) === 0);
    }
    case "ne":
      need(2);
      return compare(name, args[0], args[1]) !== 0;
    case "lt":
      need(2);
      return compare(name, args[0], args[1]) < 0;
    case "le":
      need(2);
      return compare(name, args[0], args[1]) <= 0;
    case "gt":
      need(2);
      return compare(name, args[0], args[1]) > 0;
    case "ge":
      need(2);
      return compare(name, args[0], args[1]) >= 0;
  }
  throw new TemplateError(`function "${name}" not defined`);
}

export class GoTemplate {
  private constructor(
    readonly name: string,
    readonly source: string,
    private readonly root: Node[],
    /** Every `.Field` chain the template reads, for checking names at load time. */
    readonly fields: readonly FieldUse[],
  ) {}

  /** Parses with `<<` `>>` delimiters; throws TemplateError with line:col on a syntax error. */
  static parse(name: string, source: string): GoTemplate {
    const lineCol = (pos: number): { line: number; col: number } => {
      const before = source.slice(0, pos);
      const line = before.split("\n").length;
      const col = pos - before.lastIndexOf("\n");
      return { line, col };
    };
    const where = (pos: number): string => {
      const { line, col } = lineCol(pos);
      return `template ${name}:${line}:${col}`;
    };
    const parser = new Parser(lex(source, where), where, lineCol);
    const root = parser.parseTemplate();
    return new GoTemplate(name, source, root, parser.fields);
  }

  /** True when the template contains at least one action (a template with none is plain text). */
  hasActions(): boolean {
    return this.root.some((n) => n.kind !== "text");
  }

  execute(data: unknown): string {
    const out: string[] = [];
    const vars: Vars = [{ name: "$", value: data }];
    this.walk(this.root, data, vars, out);
    return out.join("");
  }

  private walk(list: Node[], dot: unknown, vars: Vars, out: string[]): void {
    for (const node of list) {
      switch (node.kind) {
        case "text":
          out.push(node.text);
          break;
        case "action": {
          const v = this.evalPipe(node.pipe, dot, vars);
          if (node.pipe.decl.length === 0) out.push(printValue(v));
          break;
        }
        case "if":
        case "with": {
          const mark = vars.length;
          const v = this.evalPipe(node.pipe, dot, vars);
          if (truth(v)) this.walk(node.list, node.kind === "with" ? v : dot, vars, out);
          else if (node.elseList) this.walk(node.elseList, dot, vars, out);
          vars.length = mark;
          break;
        }
        case "range":
          this.range(node, dot, vars, out);
          break;
        case "break":
          throw new BreakSignal();
        case "continue":
          throw new ContinueSignal();
      }
    }
  }

  private range(node: Extract<Node, { kind: "range" }>, dot: unknown, vars: Vars, out: string[]): void {
    const mark = vars.length;
    const pipe: Pipe = { decl: [], assign: false, cmds: node.pipe.cmds };
    const v = this.evalPipe(pipe, dot, vars);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (typeof v === "number" && Number.isInteger(v))
      entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null || v === undefined) entries = [];
    else if (typeof v === "object" && !(v instanceof TemplateStruct)) {
      const o = v as Record<string, unknown>;
      entries = Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]);
    } else throw new TemplateError(`range can't iterate over ${printValue(v)}`);
    if (entries.length === 0) {
      if (node.elseList) this.walk(node.elseList, dot, vars, out);
      vars.length = mark;
      return;
    }
    for (const [k, elem] of entries) {
      vars.length = mark;
      const d = node.pipe.decl;
      const setVar = (name: string, value: unknown): void => {
        if (node.pipe.assign) this.assign(vars, name, value);
        else vars.push({ name, value });
      };
      if (d.length === 1 && d[0] !== undefined) setVar(d[0], elem);
      if (d.length === 2 && d[0] !== undefined && d[1] !== undefined) {
        setVar(d[0], k);
        setVar(d[1], elem);
      }
      try {
        this.walk(node.list, elem, vars, out);
      } catch (e) {
        if (e instanceof BreakSignal) break;
        if (e instanceof ContinueSignal) continue;
        throw e;
      }
    }
    vars.length = mark;
  }

  private assign(vars: Vars, name: string, value: unknown): void {
    for (let i = vars.length - 1; i >= 0; i--) {
      const v = vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    throw new TemplateError(`undefined variable: ${name}`);
  }

  private lookupVar(vars: Vars, name: string): unknown {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i]?.name === name) return vars[i]?.value;
    throw new TemplateError(`undefined variable: ${name}`);
  }

  private evalPipe(pipe: Pipe, dot: unknown, vars: Vars): unknown {
    let value: unknown;
    let hasPiped = false;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(cmd, dot, vars, hasPiped ? { value } : undefined);
      hasPiped = true;
    }
    if (pipe.decl.length === 1 && pipe.decl[0] !== undefined) {
      if (pipe.assign) this.assign(vars, pipe.decl[0], value);
      else vars.push({ name: pipe.decl[0], value });
    }
    return value;
  }

  private evalCommand(
    cmd: Command,
    dot: unknown,
    vars: Vars,
    piped: { value: unknown } | undefined,
  ): unknown {
    const [head, ...rest] = cmd.args;
    if (head === undefined) throw new TemplateError("empty command");
    if (head.kind === "func") {
      const argNodes = rest;
      const evalAt = (i: number): unknown => {
        if (i < argNodes.length) return this.evalArg(argNodes[i] as Arg, dot, vars);
        return piped?.value;
      };
      const count = argNodes.length + (piped ? 1 : 0);
      if (head.name === "and" || head.name === "or") {
        return callBuiltin(head.name, new Array<unknown>(count).fill(undefined), evalAt);
      }
      const args = Array.from({ length: count }, (_, i) => evalAt(i));
      return callBuiltin(head.name, args, undefined);
    }
    if (rest.length > 0 || piped) {
      throw new TemplateError(`can't give argument to non-function ${describeArg(head)}`);
    }
    return this.evalArg(head, dot, vars);
  }

  private evalArg(arg: Arg, dot: unknown, vars: Vars): unknown {
    switch (arg.kind) {
      case "dot":
        return dot;
      case "field":
        return this.evalChain(dot, arg.chain);
      case "var":
        return this.evalChain(this.lookupVar(vars, arg.name), arg.chain);
      case "string":
      case "number":
      case "bool":
        return arg.value;
      case "nil":
        return null;
      case "func":
        return callBuiltin(arg.name, [], undefined);
      case "pipe":
        return this.evalChain(this.evalPipe(arg.pipe, dot, vars), arg.chain);
    }
  }

  private evalChain(receiver: unknown, chain: string[]): unknown {
    let v = receiver;
    for (const f of chain) {
      if (v instanceof TemplateStruct) {
        if (!Object.prototype.hasOwnProperty.call(v.fields, f)) {
          throw new TemplateError(`can't evaluate field ${f} in type ${v.typeName}`);
        }
        v = v.fields[f];
      } else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        v = Object.prototype.hasOwnProperty.call(o, f) ? o[f] : undefined;
      } else if (v === null || v === undefined) {
        throw new TemplateError(`nil pointer evaluating .${f}`);
      } else {
        throw new TemplateError(`can't evaluate field ${f} in type ${describeType(v)}`);
      }
    }
    return v;
  }
}

function describeArg(a: Arg): string {
  switch (a.kind) {
    case "field":
      return "." + a.chain.join(".");
    case "var":
      return a.name + (a.chain.length ? "." + a.chain.join(".") : "");
    default:
      return a.kind;
  }
}
