import { describe, expect, it } from "vitest";
import { renderJunit, xmlAttr, xmlText } from "./render-junit.ts";
import { hostileModel, sampleModel } from "./sample-model.ts";

/**
 * Enough of an XML well-formedness check for these files: tags balance, attribute values are
 * quoted, and text holds no raw "<" and only known entity references.
 */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml [^?]*\?>\n/, "");
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(body)) !== null) {
    end = re.lastIndex;
    const [, close, name, , selfClose, text] = m;
    if (text !== undefined) {
      expect(text.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, "")).not.toMatch(/[&<]/);
    } else if (close) {
      expect(stack.pop()).toBe(name);
    } else if (!selfClose) {
      stack.push(name);
    }
  }
  expect(end, `unparsable XML at ${JSON.stringify(body.slice(end, end + 60))}`).toBe(body.length);
  expect(stack).toEqual([]);
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe("renderJunit", () => {
  const m = sampleModel();
  const xml = renderJunit(m);

  it("writes one testsuite with one testcase per property", () => {
    assertWellFormed(xml);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="flinch chaos: per-symbol 1m volume" tests="5" failures="2" errors="0" skipped="1" time="0.843">')).toBe(true);
    expect(count(xml, "<testsuite ")).toBe(1);
    expect(count(xml, "<testcase ")).toBe(5);
    expect(count(xml, "<failure ")).toBe(2);
    expect(count(xml, "<skipped ")).toBe(1);
    expect(xml).toContain('<testcase name="every restore uses the latest valid complete checkpoint" classname="flinch.chaos.per-symbol 1m volume" time="0"/>');
    expect(xml).toContain('<property name="seed" value="1597463007"/>\n    <property name="engineSeed" value="24"/>');
    expect(xml).toContain(`<property name="traceHash" value="${m.summary.traceHash}"/>`);
  });

  it("fails invalid properties with the message and the replay command, and skips unknown ones", () => {
    const failure = xml.slice(xml.indexOf('<testcase name="committed output equals the oracle"'), xml.indexOf("</testcase>"));
    expect(failure).toBe(`<testcase name="committed output equals the oracle" classname="flinch.chaos.per-symbol 1m volume" time="0">
      <failure message="2 of 12 windows differ: BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z committed 2 times; ETHUSDT 2024-05-01T12:03:00Z–12:04:00Z committed 12.365 in 419 trades, expected 12.05 in 410 trades" type="PropertyViolation">replay: ${m.violations[0].replay}
seed: 1597463007  engine seed: 24  path: 12:0:1
faults: [{"kind":"crash","point":"checkpoint.async-write","task":"Window(sum)#1","checkpointId":3}]</failure>
    `);
    // The message once (in the attribute), never again in the body.
    expect(count(xml, "2 of 12 windows differ")).toBe(1);
    expect(xml).toContain('<testcase name="same seed, same trace hash" classname="flinch.chaos.per-symbol 1m volume" time="0">\n      <skipped message="not checked: the run was not repeated (use --runs 2 or more)"/>');
  });

  it("never hides a violation whose property is not listed", () => {
    const orphan = sampleModel({ properties: [] });
    const x = renderJunit(orphan);
    assertWellFormed(x);
    expect(count(x, "<testcase ")).toBe(2);
    expect(count(x, "<failure ")).toBe(2);
    expect(x).toContain('tests="2" failures="2"');
  });

  it("renders a run with no properties as an empty suite", () => {
    const x = renderJunit(sampleModel({ properties: [], violations: [] }));
    assertWellFormed(x);
    expect(x).toContain('tests="0" failures="0" errors="0" skipped="0"');
    expect(count(x, "<testcase")).toBe(0);
  });

  it("escapes hostile text and characters XML cannot carry", () => {
    const h = hostileModel();
    h.properties[1].message = "nul\u0000 bell\u0007 lone\uD800 emoji 🚀";
    const x = renderJunit(h);
    assertWellFormed(x);
    expect(x).not.toMatch(/<script|<img/i);
    expect(x).toContain('<testcase name="prop &lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &apos;a&apos; &amp; | `tick` &#10;# heading"');
    expect(x).toContain("violation &lt;script&gt;alert(1)&lt;/script&gt; \"q\" 'a' &amp; | `tick` \n# heading");
    expect(x).toContain("nul\\u0000 bell\\u0007 lone\\ud800 emoji 🚀");
    expect(x).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  });

  it("escapes text and attributes", () => {
    expect(xmlText(`a<b>&"c"`)).toBe(`a&lt;b&gt;&amp;"c"`);
    expect(xmlAttr(`a<"b">'c'\n\td`)).toBe("a&lt;&quot;b&quot;&gt;&apos;c&apos;&#10;&#9;d");
  });
});
