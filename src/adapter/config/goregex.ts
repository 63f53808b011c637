// Go (RE2) regular expressions as configs write them, compiled to JavaScript RegExps. The
// syntaxes mostly agree; the differences a config can hit are translated ((?P<name>, \A, \z,
// POSIX classes, leading flag groups) and the Perl features RE2 refuses (lookaround,
// backreferences) are refused here too, so a config valid for us is valid for prometheus-adapter.

export type RegexResult = { ok: true; regex: RegExp; groups: number } | { ok: false; message: string };

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

export function compileGoRegex(pattern: string): RegexResult {
  let src = pattern;
  let flags = "";
  // Leading flag group such as (?i) or (?is): JavaScript takes flags outside the pattern.
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    const f = lead[1] ?? "";
    if (f.includes("U")) return { ok: false, message: "the (?U) flag is not supported" };
    flags = [...new Set(f)].join("");
    src = src.slice(lead[0].length);
  }
  let out = "";
  let groups = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === "\\") {
      const e = src[i + 1];
      if (e === undefined) return { ok: false, message: "trailing backslash at end of expression" };
      if (/[1-9]/.test(e) && !inClass)
        return {
          ok: false,
          message: `invalid escape sequence: \`\\${e}\` (backreferences are not supported)`,
        };
      if (e === "A" && !inClass) out += "^";
      else if (e === "z" && !inClass) out += "$(?![\\s\\S])";
      else if (e === "Q") {
        const end = src.indexOf("\\E", i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        out += lit.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
        i = end < 0 ? src.length : end + 1;
        continue;
      } else out += c + e;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "[" && src[i + 1] === ":") {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
        if (m) {
          const cls = POSIX[m[2] ?? ""];
          if (cls === undefined) return { ok: false, message: `invalid character class range: \`${m[0]}\`` };
          if (m[1] === "^") return { ok: false, message: "negated POSIX classes are not supported" };
          out += cls;
          i += m[0].length - 1;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (src[i + 1] === "^") {
        out += "^";
        i++;
      }
      if (src[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(") {
      if (src[i + 1] === "?") {
        const rest = src.slice(i + 2);
        if (rest.startsWith("P<")) {
          out += "(?<";
          i += 3;
          groups++;
          continue;
        }
        if (rest.startsWith("<") && !rest.startsWith("<=") && !rest.startsWith("<!")) {
          groups++;
          out += c;
          continue;
        }
        if (rest.startsWith(":")) {
          out += c;
          continue;
        }
        const flagGroup = /^([imsU-]+)(:|\))/.exec(rest);
        if (flagGroup)
          return {
            ok: false,
            message: `flag group \`(?${flagGroup[1]}${flagGroup[2]}\` is only supported at the start of the expression`,
          };
        return { ok: false, message: `invalid or unsupported Perl syntax: \`(?${rest.slice(0, 1)}\`` };
      }
      groups++;
    }
    out += c;
  }
  try {
    const regex = new RegExp(out, flags);
    return { ok: true, regex, groups };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // V8 says "Invalid regular expression: /x/: Unterminated group"; keep the reason only.
    return {
      ok: false,
      message: msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "").toLowerCase(),
    };
  }
}

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` from the match, `$$` for a dollar.
 * A `$name` takes the longest run of letters, digits and underscores, as Go does, so `$1_x`
 * names the (absent) group "1_x" and expands to "".
 */
export function expandGo(template: string, match: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== "$") {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close < 0 ? "" : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += c; // malformed reference: Go copies the `$` literally
        continue;
      }
      name = inner;
      end = close;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      name = m[0];
      end = i + m[0].length;
    }
    if (/^[0-9]+$/.test(name)) out += match[Number(name)] ?? "";
    else out += match.groups?.[name] ?? "";
    i = end;
  }
  return out;
}
