/**
 * junit.xml: one testsuite, one testcase per property, so CI shows each property as a test.
 * An invalid property fails with its message and replay command; an undecided one is skipped,
 * not passed, so "unknown" never looks green.
 */
import type { RunModel, Violation } from "./model.ts";

/**
 * XML 1.0 cannot carry most control characters or lone surrogates even as references, and a
 * parser rejects the whole file for one of them: such characters become a visible \uXXXX.
 */
function clean(s: string): string {
  return s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function xmlText(s: string): string {
  return clean(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Attribute values also escape quotes and line breaks, which parsers would otherwise fold into spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a).map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`).join("");
}

function failureBody(message: string, vs: Violation[]): string {
  const lines = [message];
  for (const v of vs) {
    lines.push("", v.message, `seed: ${v.seed}` + (v.path !== undefined ? `  path: ${v.path}` : ""), `replay: ${v.replay}`);
  }
  if (vs.length === 0) lines.push("", "no replay command was recorded for this property");
  return xmlText(lines.join("\n"));
}

export function renderJunit(m: RunModel): string {
  const s = m.summary;
  const classname = `flinch.${s.command}.${s.jobName}`;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  const named = new Set(m.properties.map((p) => p.name));
  for (const p of m.properties) {
    const head = `    <testcase${attrs({ name: p.name, classname, time: 0 })}`;
    if (p.valid === true) {
      cases.push(`${head}/>`);
    } else if (p.valid === "unknown") {
      skipped++;
      cases.push(`${head}>\n      <skipped${attrs({ message: p.message })}/>\n    </testcase>`);
    } else {
      failures++;
      const vs = m.violations.filter((v) => v.property === p.name);
      const msg = vs[0] ? `${p.message} | replay: ${vs[0].replay}` : p.message;
      cases.push(`${head}>\n      <failure${attrs({ message: msg, type: "PropertyViolation" })}>${failureBody(p.message, vs)}</failure>\n    </testcase>`);
    }
  }
  // A violation whose property is not listed would otherwise vanish from CI: it gets its own failing case.
  for (const v of m.violations.filter((x) => !named.has(x.property))) {
    failures++;
    cases.push(`    <testcase${attrs({ name: v.property, classname, time: 0 })}>\n      <failure${attrs({ message: `${v.message} | replay: ${v.replay}`, type: "PropertyViolation" })}>${failureBody(v.message, [v])}</failure>\n    </testcase>`);
  }
  const props: Record<string, string | number> = {
    runId: s.runId, command: s.command, seed: s.seed, traceHash: s.traceHash, backend: s.backend, mode: s.mode,
    parallelism: s.parallelism, status: s.status, trades: s.trades, restarts: s.restarts,
  };
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuite${attrs({ name: `flinch ${s.command}: ${s.jobName}`, tests: cases.length, failures, errors: 0, skipped, time: (s.wallMs / 1000).toFixed(3) })}>`,
    `  <properties>`,
    ...Object.entries(props).map(([name, value]) => `    <property${attrs({ name, value })}/>`),
    `  </properties>`,
    ...cases,
    `</testsuite>`,
    "",
  ].join("\n");
}
