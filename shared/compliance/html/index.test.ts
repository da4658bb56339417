import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CheckResult, type ReportBody, ReportBodySchema } from "../report";
import { scoreOf } from "../score";
import { CONTENT_SECURITY_POLICY, renderReportHtml } from ".";
import { MAX_TIMELINE_GRANTS } from "./charts";

const check = (overrides: Partial<CheckResult> & Pick<CheckResult, "id" | "status">): CheckResult => ({
  title: `Check ${overrides.id}`,
  hipaa: "164.312(b)",
  section: "164.312",
  layer: "application",
  severity: "medium",
  weight: 2,
  evidence: overrides.status === "pass" || overrides.status === "fail" ? { checked: 3 } : {},
  ...(overrides.status === "fail" && { remediation: `Fix ${overrides.id}` }),
  ...((overrides.status === "not_evaluated" || overrides.status === "not_applicable") && {
    reason: `Why not ${overrides.id}`,
  }),
  ...overrides,
});

const CHECKS: CheckResult[] = [
  check({ id: "audit.chain-verifies", status: "pass", severity: "critical", evidence: { entries: 120 } }),
  check({ id: "identity.mfa-enrolled", status: "fail", severity: "high", evidence: { withoutMfa: ["u-1"] } }),
  check({
    id: "protection.rate-limits-on",
    status: "fail",
    severity: "low",
    hipaa: "164.308(a)(5)(ii)(C)",
    section: "164.308",
  }),
  check({ id: "backup.last-job", status: "not_evaluated", severity: "high", layer: "infrastructure" }),
  check({ id: "facility.access", status: "not_applicable", hipaa: "164.310(a)(1)", section: "164.310" }),
  check({
    id: "agreements.baa-recorded",
    status: "fail",
    severity: "critical",
    hipaa: "164.314(a)(1)",
    section: "164.314",
  }),
];

function body(overrides: Partial<ReportBody> = {}, checks = CHECKS): ReportBody {
  const score = scoreOf(checks);
  return ReportBodySchema.parse({
    schema: "coachvault.compliance-report",
    version: 1,
    reportId: "rep-1",
    orgId: "org-1",
    generatedAt: "2026-11-24T22:00:00.000Z",
    period: { from: "2026-11-17T22:00:00.000Z", to: "2026-11-24T22:00:00.000Z" },
    score,
    previous: { reportId: "rep-0", score: 80 },
    history: [
      { reportId: "rep-0", generatedAt: "2026-11-17T22:00:00.000Z", score: 80 },
      { reportId: "rep-1", generatedAt: "2026-11-24T22:00:00.000Z", score: score.value },
    ],
    checks,
    activity: {
      phiAccessesByDay: [
        { day: "2026-11-18", role: "coach", count: 12 },
        { day: "2026-11-19", role: "admin", count: 3 },
      ],
      breakGlass: [{ grantId: "bg-1", grantedAt: "2026-11-20T10:00:00.000Z", reviewedAt: null }],
    },
    ...overrides,
  });
}

/** The figure of one chart, by its `data-chart` name. */
const chartOf = (html: string, name: string) =>
  html.match(new RegExp(`<figure class="chart" data-chart="${name}">[\\s\\S]*?</figure>`))?.[0] ?? "";
const CHARTS = ["chart-score", "chart-sections", "chart-phi", "chart-breakglass"];

/** Every element the page may contain: HTML for the text, SVG for the charts. Nothing that loads or runs. */
const ALLOWED_TAGS = new Set(
  "html head meta title style body main header footer section h1 h2 h3 p dl dt dd div span code strong table thead tbody tr th td figure figcaption wbr svg g path text tspan rect circle line polyline polygon defs clippath lineargradient stop".split(
    " ",
  ),
);
function assertInert(html: string) {
  const tags = [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((match) => (match[1] ?? "").toLowerCase());
  expect(tags.filter((tag) => !ALLOWED_TAGS.has(tag))).toEqual([]);
  // No event handler, link or source attribute on any element; the only URLs are SVG's namespaces.
  const elements = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
  expect(elements.filter((element) => /\son[a-z]+\s*=/i.test(element))).toEqual([]);
  expect(
    elements.filter((element) =>
      /\s(?:href|src|xlink:href|srcset|action|formaction|background)\s*=/i.test(element),
    ),
  ).toEqual([]);
  expect(html).not.toMatch(/@import|javascript:/i);
  expect([...html.matchAll(/url\(([^)]*)\)/g)].map((match) => match[1]?.startsWith("#"))).not.toContain(
    false,
  );
  expect(
    (html.match(/https?:\/\/[^"\s)]*/g) ?? []).filter((url) => !url.startsWith("http://www.w3.org/")),
  ).toEqual([]);
}

describe("the report's HTML", () => {
  it("is the same bytes for the same body, whatever was rendered before (its SHA-256 is signed)", () => {
    const first = renderReportHtml(body());
    renderReportHtml(body({ orgId: "someone-else" }));
    expect(renderReportHtml(body())).toBe(first);
  });

  it("forbids every load with a CSP meta and holds nothing that loads or runs", () => {
    const html = renderReportHtml(body());
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    );
    expect(CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none';/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*|data:/);
    assertInert(html);
  });

  it("lists failed checks first, most severe first, then the not-evaluated ones, then charts, then every check", () => {
    const html = renderReportHtml(body());
    const at = (text: string) => html.indexOf(text);
    expect(at('id="failed"')).toBeGreaterThan(0);
    expect(at('id="failed"')).toBeLessThan(at('id="not-evaluated"'));
    expect(at('id="not-evaluated"')).toBeLessThan(at('id="charts"'));
    expect(at('id="charts"')).toBeLessThan(at('id="all-checks"'));
    const failedTable = html.slice(at('id="failed"'), at('id="not-evaluated"'));
    const order = ["agreements.baa-recorded", "identity.mfa-enrolled", "protection.rate-limits-on"].map(
      (id) => failedTable.indexOf(id),
    );
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(failedTable).toContain("Fix identity.mfa-enrolled");
    const notEvaluated = html.slice(at('id="not-evaluated"'), at('id="charts"'));
    expect(notEvaluated).toContain("Why not backup.last-job");
    expect(notEvaluated).toMatch(/Not evaluated <span class="count-pill[^"]*">1<\/span>/);
  });

  it("shows score, band, coverage and the trend against the previous report", () => {
    const html = renderReportHtml(body());
    const { score } = body();
    expect(html).toContain(
      `<div class="score-value">${score.value}<span class="score-max">/100</span></div>`,
    );
    expect(html).toContain(`<div class="score-card band-at_risk">`);
    expect(html).toContain(`Coverage ${Math.round(score.coverage * 1000) / 10}%`);
    expect(html).toContain(
      `−${80 - score.value} points since the previous report (<code>rep-0</code>, score 80)`,
    );
    expect(renderReportHtml(body({ previous: undefined }))).toContain("First report: no trend yet.");
  });

  it("groups every check under its Security Rule section, all five sections present", () => {
    const html = renderReportHtml(body());
    const sections = ["164.308", "164.310", "164.312", "164.314", "164.316"];
    for (const section of sections) expect(html).toContain(`id="section-${section}"`);
    const at = (section: string) => html.indexOf(`id="section-${section}"`);
    expect(html.slice(at("164.312"), at("164.314"))).toContain("identity.mfa-enrolled");
    expect(html.slice(at("164.310"), at("164.312"))).toContain("Why not facility.access");
    expect(html.slice(at("164.316"))).toContain("No check maps to this section.");
  });

  it("draws the four charts with marks, and each says so when its data is empty", () => {
    const html = renderReportHtml(body());
    for (const name of CHARTS) {
      const figure = chartOf(html, name);
      expect(figure, name).toMatch(/<svg [^>]*role="img"/);
      expect((figure.match(/<(path|rect|circle)\b/g) ?? []).length, name).toBeGreaterThan(5);
    }
    expect(chartOf(html, "chart-breakglass")).toContain("not reviewed");
    expect(chartOf(html, "chart-phi")).toContain(">coach<");

    const first = renderReportHtml(
      body({
        previous: undefined,
        history: [{ reportId: "rep-1", generatedAt: "2026-11-24T22:00:00.000Z", score: 40 }],
        activity: { phiAccessesByDay: [], breakGlass: [] },
      }),
    );
    for (const name of CHARTS) expect(chartOf(first, name), name).toMatch(/<svg [\s\S]*<path/);
    expect(chartOf(first, "chart-phi")).toContain("No PHI access recorded in this period");
    expect(chartOf(first, "chart-breakglass")).toContain("No break-glass grant in this period");
    expect(chartOf(first, "chart-score")).toContain("first report");
  });

  it("draws at most the latest grants on the timeline and says how many there were", () => {
    const grants = Array.from({ length: MAX_TIMELINE_GRANTS + 5 }, (_, index) => ({
      grantId: `bg-${String(index).padStart(3, "0")}`,
      grantedAt: new Date(Date.parse("2026-11-18T00:00:00.000Z") + index * 3_600_000).toISOString(),
      reviewedAt: null,
    }));
    const html = renderReportHtml(body({ activity: { phiAccessesByDay: [], breakGlass: grants } }));
    const figure = chartOf(html, "chart-breakglass");
    // The table names every grant, numbered as on the timeline.
    expect(html).toContain("<td>#1</td><td><code>bg-000</code></td>");
    expect(html).toContain(`${grants.length} not reviewed</span>`);
    expect(figure).toContain(
      `${grants.length} break-glass grants in the period, ${grants.length} not reviewed; the latest ${MAX_TIMELINE_GRANTS} are drawn`,
    );
    expect(figure).not.toContain(">#5<");
    expect(figure).toContain(">#6<");
    expect(figure).toContain(`>#${grants.length}<`);
  });

  it("escapes every text from the body: hostile ids, roles, evidence and notes stay text", () => {
    const hostile = fc.string({
      minLength: 1,
      maxLength: 60,
      unit: fc.constantFrom(..."<>&\"'/= aonxsvgimgscript()`:".split("")),
    });
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, (orgId, role, grantId, text) => {
        const checks = CHECKS.map((entry) => ({
          ...entry,
          title: text,
          evidence: { [text.slice(0, 60)]: text, list: [text] },
          ...(entry.remediation && { remediation: text }),
          ...(entry.reason && { reason: text }),
        }));
        const html = renderReportHtml(
          body(
            {
              orgId,
              reportId: text,
              previous: { reportId: text, score: 10 },
              activity: {
                phiAccessesByDay: [{ day: "2026-11-18", role, count: 2 }],
                breakGlass: [{ grantId, grantedAt: "2026-11-20T10:00:00.000Z", reviewedAt: null }],
              },
            },
            checks,
          ),
        );
        assertInert(html);
      }),
      { numRuns: 40 },
    );
    const payload = '"><img src=x onerror=alert(1)><script>alert("x")</script>';
    const html = renderReportHtml(
      body({
        orgId: payload,
        activity: {
          phiAccessesByDay: [{ day: "2026-11-18", role: payload, count: 2 }],
          breakGlass: [{ grantId: payload, grantedAt: "2026-11-20T10:00:00.000Z", reviewedAt: null }],
        },
      }),
    );
    assertInert(html);
    expect(html).toContain(
      "&#34;&#62;&#60;img src=x onerror=alert(1)&#62;&#60;script&#62;alert(&#34;x&#34;)",
    );
    expect(chartOf(html, "chart-phi")).toContain("&lt;img src=x onerror=alert(1)&gt;");
  }, 60_000);
});
