import { describe, expect, it } from "vitest";
import { RepeatFolder, type FoldedRepeats } from "../../../src/log/fold.js";

function setup(intervalMs = 1000) {
  let t = 0;
  const lines: { entry: string; repeats?: FoldedRepeats }[] = [];
  const folder = new RepeatFolder<string>(
    { first: (entry) => lines.push({ entry }), repeated: (entry, repeats) => lines.push({ entry, repeats }) },
    intervalMs,
    () => t,
  );
  return { folder, lines, at: (ms: number) => (t = ms) };
}

describe("RepeatFolder", () => {
  it("logs the first failure of a cause at once and folds the repeats of one interval into one count", () => {
    const { folder, lines, at } = setup();
    at(0);
    folder.note("503 unreachable", "req 1");
    for (let i = 1; i <= 999; i++) {
      at(i);
      folder.note("503 unreachable", `req ${i + 1}`);
    }
    expect(lines).toEqual([{ entry: "req 1" }]);
    at(1000);
    folder.flush();
    expect(lines).toEqual([
      { entry: "req 1" },
      { entry: "req 1000", repeats: { count: 999, firstAt: new Date(1), lastAt: new Date(999) } },
    ]);
  });

  it("keeps causes apart: a second cause is logged at once", () => {
    const { folder, lines, at } = setup();
    at(0);
    folder.note("a", "a1");
    folder.note("b", "b1");
    folder.note("a", "a2");
    expect(lines.map((l) => l.entry)).toEqual(["a1", "b1"]);
  });

  it("writes the count when the next interval's first failure comes, before logging it", () => {
    const { folder, lines, at } = setup();
    at(0);
    folder.note("a", "a1");
    at(10);
    folder.note("a", "a2");
    at(1500);
    folder.note("a", "a3");
    expect(lines).toEqual([
      { entry: "a1" },
      { entry: "a2", repeats: { count: 1, firstAt: new Date(10), lastAt: new Date(10) } },
      { entry: "a3" },
    ]);
  });

  it("writes nothing more for a cause that happened once, and flushAll empties what is pending", () => {
    const { folder, lines, at } = setup();
    at(0);
    folder.note("a", "a1");
    at(5000);
    folder.flush();
    expect(lines).toHaveLength(1);
    folder.note("a", "a2");
    folder.note("a", "a3");
    folder.flushAll();
    expect(lines.at(-1)).toEqual({
      entry: "a3",
      repeats: { count: 1, firstAt: new Date(5000), lastAt: new Date(5000) },
    });
  });
});
