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

/**
 * The body of a <failure>: the replay line first (what a CI reader copies), then the seeds and
 * the counterexample's faults. The message itself is in the message attribute only: CI tools
 * show both, and a body repeating it printed every failure twice.
 */
function failureBody(property: string, message: string, v: Violation | undefined): string {
  if (!v) return "";
  const lines = [...(v.property === property && v.message !== message ? [v.message] : []), `replay: ${v.replay}`, `seed: ${v.seed}` + (v.engineSeed !== undefined && v.engineSeed !== v.seed ? `  engine seed: ${v.engineSeed}` : "") + (v.path !== undefined ? `  path: ${v.path}` : "")];
  if (v.faults?.length) lines.push(`faults: ${JSON.stringify(v.faults)}`);
  return xmlText(lines.join("\n"));
}

/**
 * The violation that replays a property: its own, or else the report's counterexample (the
 * run this report shows, which violated every property marked false in it).
 */
function replayFor(m: RunModel, property: string): Violation | undefined {
  return m.violations.find((v) => v.property === property) ?? m.violations[0];
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
      const v = replayFor(m, p.name);
      cases.push(`${head}>\n      <failure${attrs({ message: p.message, type: "PropertyViolation" })}>${failureBody(p.name, p.message, v)}</failure>\n    </testcase>`);
    }
  }
  // A violation whose property is not listed would otherwise vanish from CI: it gets its own failing case.
  for (const v of m.violations.filter((x) => !named.has(x.property))) {
    failures++;
    cases.push(`    <testcase${attrs({ name: v.property, classname, time: 0 })}>\n      <failure${attrs({ message: v.message, type: "PropertyViolation" })}>${failureBody(v.property, v.message, v)}</failure>\n    </testcase>`);
  }
  const props: Record<string, string | number> = {
    runId: s.runId, command: s.command, ...(s.userSeed !== null ? { seed: s.userSeed } : {}), engineSeed: s.engineSeed, traceHash: s.traceHash, backend: s.backend, mode: s.mode,
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
