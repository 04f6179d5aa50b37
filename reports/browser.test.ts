/**
 * The report as a user sees it: a real failing chaos run (the at-least-once teeth scenario,
 * through the CLI), its report.html opened in headless Chromium. Asserts the rendered DOM
 * (summary, timeline SVG, window diff), a non-trivial screenshot, and that the page made no
 * request: Chromium runs behind a dead proxy with every host unresolvable, and its net log
 * must hold no request initiated by the page. Skips, saying why, only where Chromium is not
 * installed (`apt-get install -y chromium`).
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");

function findChromium(): string | undefined {
  const names = [process.env.CHROMIUM, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].filter((n): n is string => !!n);
  for (const name of names) {
    if (path.isAbsolute(name)) { if (fs.existsSync(name)) return name; continue; }
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
      const p = path.join(dir, name);
      if (dir && fs.existsSync(p)) return p;
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
const SKIP = CHROMIUM ? "" : " (SKIPPED: Chromium is not installed; `apt-get install -y chromium` runs this test)";
if (!CHROMIUM) console.warn(`reports/browser.test.ts${SKIP}`);

interface BrowserRun { stdout: string; netLog: string; code: number | null }

/**
 * One headless Chromium, in its own process group so the test can end it and everything it
 * spawned (zygote, renderer, utility processes), also when it hangs.
 */
async function chromium(tmp: string, url: string, extra: string[]): Promise<BrowserRun> {
  const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
  const netLog = path.join(tmp, `net-${path.basename(profile)}.json`);
  const args = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", `--user-data-dir=${profile}`,
    // Any request the page makes would fail: a proxy nobody listens on, and no host resolves.
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
    `--log-net-log=${netLog}`, ...extra, url,
  ];
  const child = spawn(CHROMIUM!, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
  child.stderr.resume();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not finish within 60 s: ${args.join(" ")}`)), 60_000);
      child.on("error", reject);
      child.on("exit", (c) => { clearTimeout(timer); resolve(c); });
    });
    return { stdout, netLog: fs.existsSync(netLog) ? fs.readFileSync(netLog, "utf8") : "", code };
  } finally {
    try { process.kill(-child.pid!, "SIGKILL"); } catch { /* the group has already exited */ }
  }
}

/**
 * URLs requested on behalf of the page. Chromium's own background requests (update checks,
 * network time) have no initiator ("not an origin"); a page's subresource requests carry the
 * page's origin (a file:// page's is "null").
 */
function pageRequests(netLogText: string): string[] {
  let log: { constants: { logEventTypes: Record<string, number> }; events: { type: number; params?: { url?: string; initiator?: string } }[] };
  try {
    log = JSON.parse(netLogText);
  } catch {
    // A log cut short (a killed browser) lacks its closing brackets.
    log = JSON.parse(netLogText.replace(/,?\s*$/, "") + "]}");
  }
  const start = log.constants.logEventTypes.URL_REQUEST_START_JOB;
  return log.events
    .filter((e) => e.type === start && e.params?.url !== undefined && e.params.initiator !== "not an origin")
    .map((e) => e.params!.url!);
}

/** Width and height from the IHDR chunk, and how many distinct byte values the pixel data holds. */
function pngInfo(buf: Buffer): { width: number; height: number; distinctBytes: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    if (buf.toString("latin1", off + 4, off + 8) === "IDAT") idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  const seen = new Set<number>();
  for (let i = 0; i < pixels.length && seen.size < 256; i += 7) seen.add(pixels[i]);
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), distinctBytes: seen.size };
}

const section = (dom: string, id: string): string => {
  const at = dom.indexOf(`<section id="${id}">`);
  expect(at, `section #${id} in the rendered page`).toBeGreaterThanOrEqual(0);
  return dom.slice(at, dom.indexOf("</section>", at));
};

describe.skipIf(!CHROMIUM)(`report.html in headless Chromium${SKIP}`, () => {
  let tmp: string;
  let reportHtml: string;
  let source: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-browser-"));
    // A real failing run through the CLI: at-least-once under crashes counts records twice. fast-check stops at the first failure.
    const out = path.join(tmp, "out");
    const r = spawnSync(process.execPath, ["--import", "tsx", "bin/flinch.ts", "chaos", "--scenario", "at-least-once", "--runs", "100", "--seed", "42", "--out", out], {
      cwd: ROOT, encoding: "utf8", timeout: 180_000, killSignal: "SIGKILL", env: { ...process.env, NO_COLOR: "1" },
    });
    expect(r.status, `flinch chaos should find the at-least-once violation (exit 1):\n${r.stdout}\n${r.stderr}`).toBe(1);
    const find = (dir: string): string | undefined => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isFile() && e.name === "report.html") return p;
        if (e.isDirectory()) { const f = find(p); if (f) return f; }
      }
      return undefined;
    };
    reportHtml = find(out)!;
    expect(reportHtml, `report.html under ${out}`).toBeDefined();
    source = fs.readFileSync(reportHtml, "utf8");
  }, 200_000);

  afterAll(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  it("is self-contained: no scripts, stylesheets or URLs outside the page", () => {
    expect(source).not.toMatch(/<script|<link|<iframe|@import|url\(/i);
    expect(source).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/|file:)/i);
    expect(source).not.toMatch(/https?:\/\//i);
  });

  it("renders the summary, the timeline SVG and the window diff, and requests nothing", async () => {
    const run = await chromium(tmp, `file://${reportHtml}`, ["--dump-dom"]);
    expect(run.code).toBe(0);
    const dom = run.stdout;
    // Summary: the verdict, the user's seed and the replay line that repeats it.
    expect(dom).toMatch(/<header class="banner fail">✘ FAIL<small>\d+ of \d+ propert(y|ies) violated<\/small><\/header>/);
    const summary = dom.slice(dom.indexOf('<dl class="summary">'), dom.indexOf("</dl>"));
    // The headline replay is the shrunk case (--engine-seed E --faults F): the seed sentence names it.
    expect(summary).toMatch(/<dt>Seeds<\/dt><dd><span class="mono">42<\/span> given with --seed; the run shown used engine seed <span class="mono">(\d+)<\/span>, drawn from it \(the replay line passes it with --engine-seed\)<\/dd>/);
    expect(summary).toContain("<dt>Mode</dt><dd>at-least-once</dd>");
    const engineSeed = /engine seed <span class="mono">(\d+)<\/span>/.exec(summary)![1];
    expect(dom).toMatch(new RegExp(`<div class="replay" id="replay"><b>Replay [^<]+:</b><pre><code>npx flinch chaos [^<]*--engine-seed ${engineSeed} --faults [^<]+</code></pre></div>`));
    // Timeline: an SVG with checkpoint bars and the crash that caused the violation.
    const timeline = section(dom, "timeline");
    expect(timeline).toContain("<svg");
    expect(timeline).toMatch(/<rect[^>]*><title>checkpoint \d+/);
    expect(timeline).toContain('<g class="crash"><title>crash at');
    // Window diff: the differing row is highlighted, its differing cells marked.
    const windows = section(dom, "windows");
    expect(windows).toMatch(/<b>[1-9]\d*<\/b> differs? from the oracle/);
    expect(windows).toMatch(/<tr class="bad"><td>[A-Z]+USDT<\/td><td class="n">\d{4}-\d\d-\d\dT\d\d:\d\d:00Z–/);
    expect(windows).toContain('<td class="n diff">');
    expect(pageRequests(run.netLog)).toEqual([]);
  }, 90_000);

  it("screenshots to a non-trivial PNG", async () => {
    const png = path.join(tmp, "report.png");
    const run = await chromium(tmp, `file://${reportHtml}`, [`--screenshot=${png}`, "--window-size=1320,1600"]);
    expect(run.code).toBe(0);
    const buf = fs.readFileSync(png);
    const info = pngInfo(buf);
    expect([info.width, info.height]).toEqual([1320, 1600]);
    // A blank or single-colour page compresses to a few KB and a handful of byte values.
    expect(buf.length).toBeGreaterThan(40_000);
    expect(info.distinctBytes).toBeGreaterThan(100);
    expect(pageRequests(run.netLog)).toEqual([]);
  }, 90_000);

  it("would see a request if the page made one (the check can fail)", async () => {
    const leak = path.join(tmp, "leak.html");
    fs.writeFileSync(leak, '<!doctype html><style>body{background:url(http://example.org/bg.png)}</style><img src="https://example.com/x.png">');
    const run = await chromium(tmp, `file://${leak}`, ["--dump-dom"]);
    expect(pageRequests(run.netLog).sort()).toEqual(["http://example.org/bg.png", "https://example.com/x.png"]);
  }, 90_000);
});
