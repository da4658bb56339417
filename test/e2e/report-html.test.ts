import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Activity,
  CHECKS,
  type CheckDefinition,
  failed,
  generateReport,
  notApplicable,
  passed,
  type ReportBody,
  renderReportHtml,
  reportActivity,
} from "../../shared/compliance";
import { ServiceUnavailableError } from "../../shared/errors";
import { testStack } from "../support/stack";

/**
 * The report's HTML as a compliance officer opens it: a body generated on the local stack (the shipped
 * checks and activity, plus a few fixture checks and some history and activity so that every part of the
 * page has something to draw), rendered, written to disk and opened from a file:// URL in Debian's
 * Chromium. No console error, no request at all, every chart drawn, the failed checks first. The body, the
 * page, full-page screenshots (screen; print media at A4's width) and the PDF print land in `test/output/`
 * (gitignored).
 */
const stack = testStack();
const ORG = "demo";
const OUTPUT = fileURLToPath(new URL("../output/", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const DAY_MS = 86_400_000;

/** Checks a real org would fail or not reach, run through the same engine as the shipped ones. */
const FIXTURE_CHECKS: CheckDefinition[] = [
  {
    id: "fixture.audit-chain-verifies",
    title: "(fixture) The audit chain verifies from the latest checkpoint",
    hipaa: "164.312(b)",
    layer: "application",
    severity: "critical",
    weight: 3,
    remediation:
      "Open an incident, find the first entry whose hash does not match and restore it from backup.",
    evaluate: async () => failed({ checkpointSeq: 1200, firstBrokenSeq: 1213, entriesChecked: 4031 }),
  },
  {
    id: "fixture.mfa-enrolled",
    title: "(fixture) Every active user is enrolled in MFA",
    hipaa: "164.312(d)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation: "Have each listed user enrol a TOTP factor before their next sign-in.",
    evaluate: async () => failed({ activeUsers: 7, withoutMfa: ["user-0192", "user-0457"] }),
  },
  {
    id: "fixture.backup-succeeded",
    title: "(fixture) The last backup job succeeded",
    hipaa: "164.308(a)(7)(ii)(A)",
    layer: "infrastructure",
    severity: "high",
    weight: 2,
    remediation: "Investigate the failed backup job.",
    evaluate: async () => {
      throw new ServiceUnavailableError("BACKUP_UNAVAILABLE");
    },
  },
  {
    id: "fixture.facility-access",
    title: "(fixture) Facility access controls",
    hipaa: "164.310(a)(1)",
    layer: "organizational",
    severity: "medium",
    weight: 1,
    remediation: "None: the data centres are AWS's.",
    evaluate: async () =>
      notApplicable(
        "Physical safeguards of the data centres are AWS's, under its Business Associate Addendum.",
      ),
  },
  {
    id: "fixture.retention-configured",
    title: "(fixture) Audit records are retained for six years",
    hipaa: "164.316(b)(2)(i)",
    layer: "application",
    severity: "medium",
    weight: 2,
    remediation: "Set the retention to at least six years.",
    evaluate: async ({ now }) => passed({ retentionYears: 6, checkedAt: now.toISOString() }),
  },
];

/** What the period's audit trail shows, plus a few days of accesses by three roles and three grants. */
function withFixtureActivity(real: Activity, period: ReportBody["period"]): Activity {
  const to = Date.parse(period.to);
  const day = (daysAgo: number) => new Date(to - daysAgo * DAY_MS).toISOString().slice(0, 10);
  const at = (hoursAgo: number) => new Date(to - hoursAgo * 3_600_000).toISOString();
  const roles = ["coach", "coach_lead", "compliance_officer"];
  return {
    phiAccessesByDay: [
      ...real.phiAccessesByDay,
      ...Array.from({ length: 6 }, (_, index) => index).flatMap((daysAgo) =>
        roles.map((role, index) => ({
          day: day(daysAgo),
          role,
          count: 3 + ((daysAgo * 5 + index * 7) % 11),
        })),
      ),
    ],
    // Only these grants: the demo org's own (other test files make hundreds in a run) would push them out of
    // the timeline, which draws the latest 30, and renumber them.
    breakGlass: [
      { grantId: "bg-fixture-1", grantedAt: at(130), reviewedAt: at(126) },
      { grantId: "bg-fixture-2", grantedAt: at(90), reviewedAt: at(40) },
      { grantId: "bg-fixture-3", grantedAt: at(20), reviewedAt: null },
    ],
  };
}

let body: ReportBody;
let htmlFile: string;
let profile: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const requests: string[] = [];

beforeAll(async () => {
  // Some real activity in the period: a coach writes a client's records (PHI, audited).
  const coach = await stack.token("coach1@demo.example");
  await stack.clientWithRecords(coach, "Report Subject Okafor", ["coaching"]);

  const now = new Date();
  const history = [91, 88, 93, 90, 86, 84].map((score, index, scores) => ({
    reportId: `rep-fixture-${index + 1}`,
    generatedAt: new Date(now.getTime() - (scores.length - index) * 7 * DAY_MS).toISOString(),
    score,
  }));
  const last = history[history.length - 1] as (typeof history)[number];
  ({ body } = await generateReport({
    reportId: `rep-e2e-${now.getTime()}`,
    orgId: ORG,
    now,
    previous: {
      reportId: last.reportId,
      generatedAt: last.generatedAt,
      score: last.score,
      statuses: {},
      carry: {},
      periodTo: new Date(now.getTime() - 7 * DAY_MS).toISOString(),
    },
    history,
    checks: [...CHECKS, ...FIXTURE_CHECKS],
    activity: async (request) => withFixtureActivity(await reportActivity(request), request.period),
    defaultFrom: (clock) => new Date(clock.getTime() - 7 * DAY_MS),
  }));

  mkdirSync(OUTPUT, { recursive: true });
  htmlFile = join(OUTPUT, "report.html");
  writeFileSync(htmlFile, renderReportHtml(body));
  writeFileSync(join(OUTPUT, "report.json"), `${JSON.stringify(body, null, 2)}\n`);

  profile = mkdtempSync(join(tmpdir(), "coachvault-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
    offline: true,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  // Every request but the page itself is recorded and refused: the report must need nothing else.
  page.on("request", (request) => {
    if (request.url() !== pathToFileURL(htmlFile).href) requests.push(request.url());
  });
  await context.route("**/*", (route) =>
    route.request().url() === pathToFileURL(htmlFile).href ? route.continue() : route.abort(),
  );
  await page.goto(pathToFileURL(htmlFile).href, { waitUntil: "load" });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe("the report's HTML in Chromium", () => {
  it("loads with no console error and no request at all", async () => {
    await page.waitForLoadState("networkidle");
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.screenshot({ path: join(OUTPUT, "report.png"), fullPage: true });
  });

  it("draws every chart with marks", async () => {
    const charts = await page.locator("figure.chart").evaluateAll((figures) =>
      figures.map((figure) => {
        const svg = figure.querySelector("svg");
        const box = svg?.getBoundingClientRect();
        return {
          name: figure.getAttribute("data-chart"),
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: svg?.querySelectorAll("path, rect, circle, polygon, polyline, line").length ?? 0,
          text: svg?.textContent ?? "",
        };
      }),
    );
    expect(charts.map((chart) => chart.name)).toEqual([
      "chart-score",
      "chart-sections",
      "chart-phi",
      "chart-breakglass",
    ]);
    for (const chart of charts) {
      expect(chart.width, `${chart.name} width`).toBeGreaterThan(300);
      expect(chart.height, `${chart.name} height`).toBeGreaterThan(150);
      expect(chart.marks, `${chart.name} marks`).toBeGreaterThan(10);
      expect(chart.text, chart.name).not.toMatch(/No .* in this period/);
    }
    const byName = Object.fromEntries(charts.map((chart) => [chart.name, chart.text]));
    for (const role of ["coach", "coach_lead", "compliance_officer"])
      expect(byName["chart-phi"]).toContain(role);
    expect(byName["chart-breakglass"]).toContain("#3");
    const grants = await page.locator("table.grants tbody tr").allTextContents();
    expect(grants[2]).toMatch(/^#3bg-fixture-3.*not reviewed.*Not reviewed$/);
    expect(byName["chart-breakglass"]).toContain("not reviewed");
    expect(byName["chart-sections"]).toContain("§164.316");
  });

  it("shows the failed checks first, most severe first, with remediation; then the not-evaluated ones", async () => {
    const firstTable = page.locator("main table").first();
    expect(await firstTable.getAttribute("class")).toContain("failed-checks");
    expect(await page.locator("main h2").first().textContent()).toMatch(/^Failed checks/);
    const failedRows = await firstTable.locator("tbody tr").allTextContents();
    const failedIds = body.checks.filter((check) => check.status === "fail").map((check) => check.id);
    expect(failedRows).toHaveLength(failedIds.length);
    expect(failedRows[0]).toContain("fixture.audit-chain-verifies");
    expect(failedRows[0]).toContain("restore it from backup");
    expect(failedRows.join("\n")).toContain("fixture.mfa-enrolled");
    const notEvaluated = await page.locator("table.not-evaluated-checks tbody tr").allTextContents();
    expect(notEvaluated.join("\n")).toContain("The evidence could not be read (BACKUP_UNAVAILABLE).");
    expect(await page.locator("#all-checks table tbody tr").count()).toBe(body.checks.length);
  });

  it("prints: page breaks before the long parts, rows never cut, light backgrounds, a PDF of several pages", async () => {
    await page.emulateMedia({ media: "print" });
    const styleOf = (selector: string, property: string) =>
      page
        .locator(selector)
        .first()
        .evaluate(
          (element, name) =>
            element.ownerDocument.defaultView?.getComputedStyle(element).getPropertyValue(name),
          property,
        );
    const style = {
      rowBreak: await styleOf("table.checks tbody tr", "break-inside"),
      figureBreak: await styleOf("figure.chart", "break-inside"),
      allChecksBreak: await styleOf(".all-checks-block", "break-before"),
      headerGroup: await styleOf("table.checks thead", "display"),
      body: await styleOf("body", "background-color"),
    };
    expect(style).toEqual({
      rowBreak: "avoid",
      figureBreak: "avoid",
      allChecksBreak: "page",
      headerGroup: "table-header-group",
      body: "rgb(255, 255, 255)",
    });
    // A4 less its margins, at 96 px per inch: the width the print layout gets on paper.
    await page.setViewportSize({ width: 718, height: 1000 });
    await page.screenshot({ path: join(OUTPUT, "report-print.png"), fullPage: true });
    const pdf = await page.pdf({ path: join(OUTPUT, "report.pdf"), format: "A4", printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdf.toString("latin1").match(/\/Type\s*\/Page\b/g)?.length ?? 0).toBeGreaterThan(1);
    expect(readFileSync(htmlFile, "utf8")).toBe(renderReportHtml(body));
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([]);
  });
});
