// Go regular expressions as prometheus-adapter configs write them, run by re2js: a port of RE2,
// the engine behind Go's regexp, so syntax, refusals and captures are Go's, and matching takes
// time linear in the input (a series name can never stall the event loop by backtracking).
import { RE2JS, RE2JSSyntaxException } from "re2js";

/** One match, as Go's FindStringSubmatch gives it; undefined marks a group that took no part. */
export interface GoMatch {
  readonly submatches: readonly (string | undefined)[];
  /** The first group of that name that took part in the match (Go's Expand rule for names). */
  named(name: string): string | undefined;
}

export class GoRegex {
  private constructor(
    private readonly re: RE2JS,
    /** Go's SubexpNames: "" for the whole match and for unnamed groups. */
    readonly subexpNames: readonly string[],
  ) {}

  static compile(pattern: string): { ok: true; regex: GoRegex } | { ok: false; message: string } {
    const c = compileRenamingDuplicates(pattern);
    if (!c.ok) return c;
    return { ok: true, regex: new GoRegex(c.re, c.names) };
  }

  /** Number of capture groups (Go's NumSubexp). */
  get groups(): number {
    return this.subexpNames.length - 1;
  }

  /** Whether the pattern matches anywhere in s (Go's MatchString). */
  test(s: string): boolean {
    return this.re.test(s);
  }

  /** The leftmost match in s with its groups, or undefined (Go's FindStringSubmatch). */
  exec(s: string): GoMatch | undefined {
    const m = this.re.matcher(s);
    if (!m.find()) return undefined;
    const submatches = this.subexpNames.map((_, i) => m.group(i) ?? undefined);
    const names = this.subexpNames;
    return {
      submatches,
      named(name) {
        for (let i = 1; i < names.length; i++) {
          if (names[i] === name && submatches[i] !== undefined) return submatches[i];
        }
        return undefined;
      },
    };
  }
}

export type RegexResult = ReturnType<typeof GoRegex.compile>;

export function compileGoRegex(pattern: string): RegexResult {
  return GoRegex.compile(pattern);
}

type Compiled = { ok: true; re: RE2JS; names: string[] } | { ok: false; message: string };

function compileRe2(pattern: string): { ok: true; re: RE2JS } | { ok: false; message: string } {
  try {
    return { ok: true, re: RE2JS.compile(pattern) };
  } catch (e) {
    if (!(e instanceof RE2JSSyntaxException)) throw e;
    // Go words it "error parsing regexp: <reason>: `<text>`"; the caller says it is a regex.
    return { ok: false, message: e.message.replace(/^error parsing regexp: /, "") };
  }
}

function namesOf(re: RE2JS): string[] {
  const names = new Array<string>(re.groupCount() + 1).fill("");
  for (const [name, i] of Object.entries(re.namedGroups())) names[i] = name;
  return names;
}

/**
 * re2js refuses a capture name used twice; Go allows it (SubexpNames then repeats the name). So
 * on that refusal the later groups get fresh names, compiled, and reported by their own names.
 * The scan that finds the names is checked against what re2js compiled: any disagreement keeps
 * the refusal rather than guess.
 */
function compileRenamingDuplicates(pattern: string): Compiled {
  const first = compileRe2(pattern);
  if (first.ok) return { ok: true, re: first.re, names: namesOf(first.re) };
  if (!first.message.startsWith("duplicate capture group name")) return first;
  const spots = namedGroupSpots(pattern);
  const seen = new Set<string>();
  const fresh = new Map<string, string>(); // fresh name -> the name it stands for
  let rewritten = "";
  let from = 0;
  for (const s of spots) {
    if (!seen.has(s.name)) {
      seen.add(s.name);
      continue;
    }
    let f: string;
    let k = fresh.size;
    do f = `dup${k++}_${s.name}`;
    while (pattern.includes(f));
    fresh.set(f, s.name);
    rewritten += pattern.slice(from, s.at) + f;
    from = s.at + s.name.length;
  }
  rewritten += pattern.slice(from);
  const second = compileRe2(rewritten);
  if (!second.ok) {
    let message = second.message;
    for (const [f, name] of fresh) message = message.split(f).join(name);
    return { ok: false, message };
  }
  const names = namesOf(second.re);
  const count = (xs: Iterable<string>, n: string) => [...xs].filter((x) => x === n).length;
  for (const [f, name] of fresh) {
    const i = names.indexOf(f);
    if (i < 0) return first;
    names[i] = name;
  }
  for (const name of seen) {
    if (
      count(names, name) !==
      count(
        spots.map((s) => s.name),
        name,
      )
    )
      return first;
  }
  return { ok: true, re: second.re, names };
}

/** Where each `(?P<name>` / `(?<name>` puts its name, skipping escapes, \Q…\E and classes. */
function namedGroupSpots(p: string): { name: string; at: number }[] {
  const out: { name: string; at: number }[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      if (p[i + 1] === "Q") {
        const end = p.indexOf("\\E", i + 2);
        i = end < 0 ? p.length : end + 1;
      } else i++;
    } else if (c === "[") {
      i = classEnd(p, i);
    } else if (c === "(" && p[i + 1] === "?") {
      const m = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(p.slice(i));
      if (m?.[1] !== undefined) out.push({ name: m[1], at: i + m[0].length - 1 - m[1].length });
    }
  }
  return out;
}

/** Index of the `]` closing the class opened at `open` (or the end of the pattern). */
function classEnd(p: string, open: number): number {
  let i = open + 1;
  if (p[i] === "^") i++;
  if (p[i] === "]") i++; // a leading ] is a literal
  for (; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "[" && p[i + 1] === ":") {
      const close = p.indexOf(":]", i + 2);
      if (close >= 0) i = close + 1;
    } else if (p[i] === "]") return i;
  }
  return p.length;
}

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` from the match, `$$` for a dollar. A name
 * is the longest run of letters, digits and underscores (Unicode ones too), so `$1x` names the
 * group "1x"; it is a number only when it is at most nine digits without a leading zero. A group out of range,
 * absent or unmatched gives "". A `$` not followed by a valid reference stays a `$`.
 */
export function expandGo(template: string, match: GoMatch): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === "$") {
      out += "$";
      i++;
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(template.slice(i));
    const name = ref?.[1] ?? ref?.[2];
    if (ref === null || name === undefined) {
      out += "$";
      continue;
    }
    i += ref[0].length;
    const num = /^(?:0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : -1;
    out += (num >= 0 ? match.submatches[num] : match.named(name)) ?? "";
  }
  return out;
}
