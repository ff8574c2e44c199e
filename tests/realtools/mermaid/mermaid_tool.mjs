// Batch front end to the real Mermaid renderer, driven by harness.py.
//
//   node mermaid_tool.mjs render JOB.json RESULT.json
//   node mermaid_tool.mjs parse  JOB.json RESULT.json
//
// JOB.json:    {"diagrams": [{"name": str, "text": str, "out": "/abs/x.svg"}, ...],
//               "puppeteerConfig": "/abs/puppeteer-config.json",   (render only)
//               "engine": "page" | "mmdc",  "mermaidConfig": {...},  "concurrency": 2}
// RESULT.json: {name: {"ok": true, "svg": path} |
//                     {"ok": false, "error": str, "line": int|null, "column": int|null}}
//
// render: ONE headless Chromium for the whole batch (engines described below); one bad
// diagram fails only itself.  Diagrams that fail are then re-parsed with mermaid under
// jsdom (after the browser closed) to recover the parser's structured location
// (hash.loc), which the browser-side error message lacks.
// parse: mermaid.parse under jsdom only (no browser): fast syntax check.

import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [mode, jobPath, resultPath] = process.argv.slice(2);
if (!["render", "parse"].includes(mode) || !jobPath || !resultPath) {
  console.error("usage: node mermaid_tool.mjs render|parse JOB.json RESULT.json");
  process.exit(2);
}
const job = JSON.parse(await fs.readFile(jobPath, "utf-8"));
const diagrams = job.diagrams;
const mermaidConfig = job.mermaidConfig ?? {};

function firstLine(msg) {
  return String(msg).split("\n")[0];
}

// Mermaid's parser errors carry "Parse error on line N:" in the message and, when
// thrown by a jison parser (flowchart), hash.loc = {first_line, first_column, ...}
// (first_line 1-based, first_column 0-based).  Langium-based diagrams give
// "Parsing failed: ... at line:col" style messages instead.
function locationOf(err) {
  const loc = err?.hash?.loc;
  if (loc && Number.isInteger(loc.first_line)) {
    return { line: loc.first_line, column: loc.first_column + 1 };
  }
  const m = /line (\d+)/i.exec(String(err?.message ?? err));
  return { line: m ? Number(m[1]) : null, column: null };
}

let jsdomMermaid = null;
async function mermaidUnderJsdom() {
  if (jsdomMermaid) return jsdomMermaid;
  const { JSDOM } = await import("jsdom");
  const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>", { pretendToBeVisual: true });
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, ...mermaidConfig });
  jsdomMermaid = mermaid;
  return mermaid;
}

async function parseOne(text) {
  const mermaid = await mermaidUnderJsdom();
  try {
    await mermaid.parse(text);
    return { ok: true };
  } catch (err) {
    const { line, column } = locationOf(err);
    return { ok: false, error: String(err?.message ?? err), line, column };
  }
}

const results = {};
const t0 = performance.now();
const timings = {}; // phase -> seconds, for the summary line
const mark = (phase, since) => {
  timings[phase] = ((performance.now() - since) / 1000).toFixed(2) + "s";
  return performance.now();
};

// Mermaid does NOT throw for an over-long diagram: it silently renders a diagram that
// says "Maximum text size in diagram exceeded".  Make that a failure.
const maxTextSize = mermaidConfig.maxTextSize ?? 50000;
function tooLong(d) {
  if (d.text.length <= maxTextSize) return false;
  results[d.name] = {
    ok: false,
    error: `Maximum text size in diagram exceeded: ${d.text.length} characters, mermaid's maxTextSize is ${maxTextSize} (Mermaid would render a placeholder diagram saying so; pass mermaid_config={"maxTextSize": N})`,
    line: null,
    column: null,
  };
  return true;
}

// Puppeteer re-throws the page's exception with the page's first stack frame appended:
// keep Mermaid's own text only.
function cleanBrowserError(err) {
  return String(err?.message ?? err)
    .split("\n")
    .filter((l) => !/^\s*(at )?\S+ \((https?:\/\/|file:\/\/|\/)/.test(l))
    .join("\n")
    .trim();
}

function recordFailure(d, err) {
  const error = cleanBrowserError(err);
  const m = /line (\d+)/i.exec(error);
  results[d.name] = { ok: false, error, line: m ? Number(m[1]) : null, column: null };
}

// engine "page" (default): ONE page imports mermaid's ESM build once (the same
// mermaid package and file that mermaid-cli loads; diagram code is lazy-loaded chunks)
// and calls mermaid.render() per diagram, exactly like a web page showing many
// diagrams.  ~40 ms per flowchart after start-up.  Files are served to the page from
// node_modules/mermaid/dist by request interception under a fake origin (the page may
// not import ES modules from file://), as mermaid-cli does.
const ORIGIN = "https://streamc-mermaid.invalid";
async function openMermaidPage(browser) {
  const distDir = path.dirname(fileURLToPath(import.meta.resolve("mermaid")));
  const page = await browser.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 404/.test(msg.text())) console.error(`[page] ${msg.text()}`);
  });
  await page.setRequestInterception(true);
  page.on("request", async (req) => {
    const url = new URL(req.url());
    if (url.origin !== ORIGIN) return req.abort("blockedbyclient"); // nothing leaves the machine
    if (url.pathname === "/") {
      return req.respond({
        contentType: "text/html",
        body: '<!doctype html><html><body style="background:white"><div id="container"></div></body></html>',
      });
    }
    const file = path.resolve(distDir, "." + decodeURIComponent(url.pathname));
    if (!file.startsWith(distDir + path.sep) || !file.endsWith(".mjs")) {
      return req.respond({ status: 404, contentType: "text/plain", body: "" }); // e.g. /favicon.ico
    }
    try {
      return req.respond({ contentType: "application/javascript", body: await fs.readFile(file) });
    } catch {
      return req.abort("filenotfound");
    }
  });
  await page.goto(ORIGIN + "/");
  await page.evaluate(async (url, cfg) => {
    const { default: mermaid } = await import(url);
    await Promise.all(Array.from(document.fonts, (font) => font.load()));
    mermaid.initialize({ startOnLoad: false, ...cfg });
    window.mermaid = mermaid;
  }, ORIGIN + "/mermaid.esm.mjs", mermaidConfig);
  return page;
}

async function renderInOnePage(browser) {
  const t = performance.now();
  const page = await openMermaidPage(browser);
  mark("page", t);
  let i = 0;
  for (const d of diagrams) {
    if (tooLong(d)) continue;
    try {
      const svg = await page.evaluate(
        async (id, text) => {
          const container = document.getElementById("container");
          try {
            const { svg } = await window.mermaid.render(id, text, container);
            container.innerHTML = svg;
            const el = container.getElementsByTagName("svg")[0];
            el.style.backgroundColor = "white";
            // foreignObject HTML (e.g. <br>) is not XML: serialize like mermaid-cli does.
            return new XMLSerializer().serializeToString(el);
          } finally {
            container.innerHTML = "";
          }
        },
        `mermaid-${i++}`,
        d.text,
      );
      await fs.writeFile(d.out, svg);
      results[d.name] = { ok: true, svg: d.out };
    } catch (err) {
      recordFailure(d, err);
    }
  }
  await page.close();
}

// engine "mmdc": mermaid-cli's own renderMermaid() (the exact code path of `mmdc`), a
// fresh page per diagram that re-imports mermaid + elk + zenuml: ~1.3 s per diagram.
async function renderWithMermaidCli(browser) {
  const { renderMermaid } = await import("@mermaid-js/mermaid-cli");
  const queue = [...diagrams];
  const worker = async () => {
    for (let d = queue.shift(); d; d = queue.shift()) {
      if (tooLong(d)) continue;
      try {
        const { data } = await renderMermaid(browser, d.text, "svg", { mermaidConfig, backgroundColor: "white" });
        await fs.writeFile(d.out, data);
        results[d.name] = { ok: true, svg: d.out };
      } catch (err) {
        recordFailure(d, err);
      }
    }
  };
  const n = Math.max(1, Math.min(job.concurrency ?? 2, diagrams.length));
  await Promise.all(Array.from({ length: n }, worker));
}

if (mode === "parse") {
  for (const d of diagrams) if (!tooLong(d)) results[d.name] = await parseOne(d.text);
} else {
  const { default: puppeteer } = await import("puppeteer");
  const pptrConfig = JSON.parse(await fs.readFile(job.puppeteerConfig, "utf-8"));
  let t = performance.now();
  const browser = await puppeteer.launch(pptrConfig);
  t = mark("launch", t);
  try {
    if ((job.engine ?? "page") === "page") await renderInOnePage(browser);
    else await renderWithMermaidCli(browser);
  } finally {
    t = mark("render", t);
    await browser.close();
  }
  // Enrich failures with the parser's structured location (browser is closed by now).
  t = performance.now();
  for (const d of diagrams) {
    const r = results[d.name];
    // Only grammar errors carry a location worth the ~1.5 s jsdom+mermaid start.
    if (r.ok || d.text.length > maxTextSize || !/(Parse|Lexical) error/.test(r.error)) continue;
    const p = await parseOne(d.text).catch(() => null);
    if (p && !p.ok) {
      r.line = p.line ?? r.line;
      r.column = p.column ?? r.column;
    }
  }
  if (Object.values(results).some((r) => !r.ok)) mark("reparse", t);
}
mark("total", t0);

await fs.writeFile(resultPath, JSON.stringify(results, null, 1));
// Summary for humans on stderr (stdout stays free).
const bad = Object.values(results).filter((r) => !r.ok).length;
console.error(`mermaid_tool ${mode}: ${diagrams.length - bad} ok, ${bad} failed; ${JSON.stringify(timings)}`);
for (const [name, r] of Object.entries(results)) {
  if (!r.ok) console.error(`  ${name}: line ${r.line}: ${firstLine(r.error)}`);
}
