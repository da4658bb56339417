import {
  CHECK_SEVERITIES,
  type CheckSeverity,
  type CheckStatus,
  HIPAA_SECTIONS,
  type HipaaSection,
} from "../check";
import type { CheckResult, ReportBody } from "../report";
import { SCORE_BANDS, SEVERITY_POINTS } from "../score";
import { type Chart, GRANT_STATES, grantState, grantsInOrder, reportCharts, STATUS_LABELS } from "./charts";
import { REPORT_CSS } from "./styles";

/**
 * The report as one self-contained HTML document for compliance officers and auditors: what failed and
 * what to do first, then what could not be evaluated and why, then the charts, then every check by
 * Security Rule section with its evidence. Pure and deterministic (the page's SHA-256 is signed in the
 * JSON): no clock, no locale, no randomness; every text from the body is escaped; no script, no external
 * asset, no event handler, and a CSP that forbids any load at all.
 */
export function renderReportHtml(body: ReportBody): string {
  const charts = reportCharts(body);
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>HIPAA compliance report · ${escapeHtml(body.orgId)} · ${escapeHtml(body.generatedAt.slice(0, 10))}</title>`,
    `<style>${REPORT_CSS}</style>`,
    "</head>",
    "<body>",
    "<main>",
    header(body),
    summary(body),
    failedSection(body),
    notEvaluatedSection(body),
    chartsSection(charts),
    breakGlassSection(body),
    allChecksSection(body),
    footer(body),
    "</main>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/**
 * Nothing may load: no script, image, font, frame, connection or form target; only the page's own inline
 * styles (the page's `<style>` and the charts' SVG presentation). `'unsafe-inline'` for styles is safe
 * here: there is no script to inject a style with, and no external sheet can be named.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; connect-src 'none'; script-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const SECTION_TITLES: Readonly<Record<HipaaSection, string>> = {
  "164.308": "Administrative safeguards",
  "164.310": "Physical safeguards",
  "164.312": "Technical safeguards",
  "164.314": "Organizational requirements",
  "164.316": "Policies, procedures and documentation",
};
const BAND_LABELS: Readonly<Record<ReportBody["score"]["band"], string>> = {
  strong: "Strong",
  moderate: "Moderate",
  weak: "Weak",
  at_risk: "At risk",
};
const LAYER_LABELS: Readonly<Record<CheckResult["layer"], string>> = {
  application: "Application",
  infrastructure: "Infrastructure",
  organizational: "Organizational",
};

const severityRank = (severity: CheckSeverity) => CHECK_SEVERITIES.indexOf(severity);
/** Most severe first, then heaviest, then by id: the order a compliance officer works through them. */
const byUrgency = (a: CheckResult, b: CheckResult) =>
  severityRank(b.severity) - severityRank(a.severity) ||
  b.weight - a.weight ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const statusBadge = (status: CheckStatus) =>
  `<span class="badge status-${status}">${STATUS_LABELS[status]}</span>`;
const severityBadge = (severity: CheckSeverity) =>
  `<span class="badge severity-${severity}">${severity}</span>`;
const checkName = (check: CheckResult) =>
  `<div class="check-title">${escapeHtml(check.title)}</div><code class="check-id">${escapeHtml(check.id)}</code>`;
/** `§164.308(a)(7)(ii)(A)`, free to wrap before each paragraph level where the column is narrow (print). */
const citation = (hipaa: string) =>
  `<span class="citation">§${escapeHtml(hipaa).replaceAll("(", "<wbr>(")}</span>`;

function evidenceValue(value: CheckResult["evidence"][string]): string {
  if (value === null) return '<span class="muted">null</span>';
  if (Array.isArray(value)) {
    return value.length === 0
      ? '<span class="muted">[ ]</span>'
      : value.map((item) => `<code>${escapeHtml(String(item))}</code>`).join(" ");
  }
  return `<code>${escapeHtml(String(value))}</code>`;
}

/** Evidence as the body holds it: each key with its value (ids, counts, times, flags), in the body's order. */
function evidenceList(evidence: CheckResult["evidence"]): string {
  const entries = Object.entries(evidence);
  if (entries.length === 0) return '<span class="muted">no evidence</span>';
  return `<dl class="evidence">${entries
    .map(([key, value]) => `<div><dt>${escapeHtml(key)}</dt><dd>${evidenceValue(value)}</dd></div>`)
    .join("")}</dl>`;
}

function header(body: ReportBody): string {
  return `<header class="report-header">
<p class="eyebrow">HIPAA Security Rule · 45 CFR Part 164, Subpart C</p>
<h1>Compliance report</h1>
<dl class="meta">
<div><dt>Organization</dt><dd><code>${escapeHtml(body.orgId)}</code></dd></div>
<div><dt>Period (UTC)</dt><dd><span class="time">${escapeHtml(body.period.from)}</span> → <span class="time">${escapeHtml(body.period.to)}</span></dd></div>
<div><dt>Generated at (UTC)</dt><dd><span class="time">${escapeHtml(body.generatedAt)}</span></dd></div>
<div><dt>Report id</dt><dd><code>${escapeHtml(body.reportId)}</code></dd></div>
</dl>
</header>`;
}

function trend(body: ReportBody): string {
  if (!body.previous) return '<p class="trend trend-none">First report: no trend yet.</p>';
  const delta = body.score.value - body.previous.score;
  const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "=";
  const change = delta === 0 ? "unchanged" : `${delta > 0 ? "+" : "−"}${Math.abs(delta)} points`;
  return `<p class="trend trend-${direction}"><span class="arrow">${arrow}</span> ${change} since the previous report (<code>${escapeHtml(body.previous.reportId)}</code>, score ${body.previous.score})</p>`;
}

function summary(body: ReportBody): string {
  const { score } = body;
  const criticalFailed = body.checks.some(
    (check) => check.status === "fail" && check.severity === "critical",
  );
  const bandNote =
    criticalFailed && score.band === "at_risk"
      ? '<p class="band-note">A critical check failed: the band is capped at “At risk” whatever the score.</p>'
      : "";
  const coverage = Math.round(score.coverage * 1000) / 10;
  const counts = (["fail", "not_evaluated", "pass", "not_applicable"] as const)
    .map(
      (status) =>
        `<div class="count status-${status}"><span class="count-value">${score.counts[status]}</span><span class="count-label">${STATUS_LABELS[status]}</span></div>`,
    )
    .join("");
  return `<section class="summary" aria-label="Summary">
<div class="score-card band-${score.band}">
<div class="score-label">Score</div>
<div class="score-value">${score.value}<span class="score-max">/100</span></div>
<div class="band">${BAND_LABELS[score.band]}</div>
</div>
<div class="summary-detail">
${trend(body)}
${bandNote}
<p class="coverage"><strong>Coverage ${coverage}%</strong>: the share of applicable check weight that was evaluated. ${
    score.counts.not_evaluated > 0
      ? `${score.counts.not_evaluated} check${score.counts.not_evaluated === 1 ? " was" : "s were"} not evaluated; the score rests on the rest (listed below with the reason).`
      : "Every applicable check was evaluated."
  }</p>
<div class="counts">${counts}</div>
<p class="total muted">${body.checks.length} checks in total.</p>
</div>
</section>`;
}

function failedSection(body: ReportBody): string {
  const failedChecks = body.checks.filter((check) => check.status === "fail").sort(byUrgency);
  const table =
    failedChecks.length === 0
      ? '<p class="empty">No check failed.</p>'
      : `<table class="checks failed-checks">
<thead><tr><th>Severity</th><th>Check</th><th>Citation</th><th>Evidence</th><th>Remediation</th></tr></thead>
<tbody>
${failedChecks
  .map(
    (check) =>
      `<tr><td>${severityBadge(check.severity)}<div class="weight">weight ${check.weight}</div></td><td>${checkName(check)}</td><td>${citation(check.hipaa)}</td><td>${evidenceList(check.evidence)}</td><td class="remediation">${escapeHtml(check.remediation ?? "")}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table>`;
  return `<section class="block" id="failed" aria-labelledby="failed-title">
<h2 id="failed-title">Failed checks <span class="count-pill status-fail">${failedChecks.length}</span></h2>
<p class="lead">Most severe first. Each row says what was found and what to do.</p>
${table}
</section>`;
}

function notEvaluatedSection(body: ReportBody): string {
  const checks = body.checks.filter((check) => check.status === "not_evaluated").sort(byUrgency);
  const table =
    checks.length === 0
      ? '<p class="empty">Every applicable check was evaluated.</p>'
      : `<table class="checks not-evaluated-checks">
<thead><tr><th>Severity</th><th>Check</th><th>Citation</th><th>Why it was not evaluated</th></tr></thead>
<tbody>
${checks
  .map(
    (check) =>
      `<tr><td>${severityBadge(check.severity)}<div class="weight">weight ${check.weight}</div></td><td>${checkName(check)}</td><td>${citation(check.hipaa)}</td><td>${escapeHtml(check.reason ?? "")}${Object.keys(check.evidence).length > 0 ? evidenceList(check.evidence) : ""}</td></tr>`,
  )
  .join("\n")}
</tbody>
</table>`;
  return `<section class="block" id="not-evaluated" aria-labelledby="not-evaluated-title">
<h2 id="not-evaluated-title">Not evaluated <span class="count-pill status-not_evaluated">${checks.length}</span></h2>
<p class="lead">These checks count towards coverage, not the score: nobody should read the score without them.</p>
${table}
</section>`;
}

function chartsSection(charts: Chart[]): string {
  return `<section class="block charts-block" id="charts" aria-labelledby="charts-title">
<h2 id="charts-title">Charts</h2>
<div class="charts">
${charts
  .map(
    (chart) =>
      `<figure class="chart" data-chart="${chart.id}"><h3 id="${chart.id}-title">${escapeHtml(chart.title)}</h3>${chart.svg}<figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`,
  )
  .join("\n")}
</div>
</section>`;
}

/** Every grant of the period, numbered as on the timeline, with its review; unreviewed ones stand out. */
function breakGlassSection(body: ReportBody): string {
  const grants = grantsInOrder(body);
  const unreviewed = grants.filter((grant) => grant.reviewedAt === null).length;
  const rows = grants
    .map((grant, index) => {
      const state = grantState(grant);
      const delay =
        grant.reviewedAt === null
          ? '<span class="muted">—</span>'
          : `${((Date.parse(grant.reviewedAt) - Date.parse(grant.grantedAt)) / 3_600_000).toFixed(1)} h`;
      return `<tr class="grant-${state}"><td>#${index + 1}</td><td><code>${escapeHtml(grant.grantId)}</code></td><td><span class="time">${escapeHtml(grant.grantedAt)}</span></td><td>${grant.reviewedAt === null ? '<span class="muted">not reviewed</span>' : `<span class="time">${escapeHtml(grant.reviewedAt)}</span>`}</td><td>${delay}</td><td><span class="badge grant-badge-${state}">${GRANT_STATES[state].name}</span></td></tr>`;
    })
    .join("\n");
  return `<section class="block" id="break-glass" aria-labelledby="break-glass-title">
<h2 id="break-glass-title">Break-glass grants <span class="count-pill">${grants.length}</span>${unreviewed > 0 ? ` <span class="count-pill status-fail">${unreviewed} not reviewed</span>` : ""}</h2>
${
  grants.length === 0
    ? '<p class="empty">No emergency access was granted in the period.</p>'
    : `<table class="checks grants">
<thead><tr><th>#</th><th>Grant</th><th>Granted at (UTC)</th><th>Reviewed at (UTC)</th><th>Time to review</th><th>Review</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
</section>`;
}

function allChecksSection(body: ReportBody): string {
  const sections = HIPAA_SECTIONS.map((section) => {
    const checks = body.checks.filter((check) => check.section === section);
    const tally = (["pass", "fail", "not_evaluated", "not_applicable"] as const)
      .filter((status) => checks.some((check) => check.status === status))
      .map(
        (status) =>
          `${checks.filter((check) => check.status === status).length} ${STATUS_LABELS[status].toLowerCase()}`,
      )
      .join(" · ");
    const rows = checks
      .map(
        (check) =>
          `<tr class="row-${check.status}"><td>${statusBadge(check.status)}</td><td>${checkName(check)}<div class="layer">${LAYER_LABELS[check.layer]}</div></td><td>${citation(check.hipaa)}</td><td>${severityBadge(check.severity)}<div class="weight">weight ${check.weight}</div></td><td>${details(check)}</td></tr>`,
      )
      .join("\n");
    return `<section class="rule-section" id="section-${section}" aria-labelledby="section-${section}-title">
<h3 id="section-${section}-title">§${section} ${SECTION_TITLES[section]} <span class="muted tally">${checks.length === 0 ? "no checks" : tally}</span></h3>
${
  checks.length === 0
    ? '<p class="empty">No check maps to this section.</p>'
    : `<table class="checks all-checks">
<thead><tr><th>Status</th><th>Check</th><th>Citation</th><th>Severity</th><th>Evidence</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
</section>`;
  }).join("\n");
  return `<section class="block all-checks-block" id="all-checks" aria-labelledby="all-checks-title">
<h2 id="all-checks-title">Every check, by Security Rule section</h2>
${sections}
</section>`;
}

/** What a row shows beside its status: the evidence, and the reason or remediation the status carries. */
function details(check: CheckResult): string {
  const note =
    check.status === "fail"
      ? `<p class="note remediation"><strong>Remediation:</strong> ${escapeHtml(check.remediation ?? "")}</p>`
      : check.reason
        ? `<p class="note reason"><strong>Reason:</strong> ${escapeHtml(check.reason)}</p>`
        : "";
  const evidence =
    Object.keys(check.evidence).length > 0 || check.status === "pass" || check.status === "fail"
      ? evidenceList(check.evidence)
      : "";
  return `${evidence}${note}`;
}

function footer(body: ReportBody): string {
  const points = CHECK_SEVERITIES.map((severity) => `${severity} ${SEVERITY_POINTS[severity]}`).join(", ");
  const bands = SCORE_BANDS.map((entry) => `${BAND_LABELS[entry.band]} ≥ ${entry.min}`).join(", ");
  return `<footer class="report-footer">
<h2>How to read this report</h2>
<p><strong>Score</strong>: the share of evaluated weight that passed, where a check weighs its severity's points (${points}) times its own weight (1–3). Not-applicable checks are outside the ratio; not-evaluated checks are outside it too and lower the coverage instead. Bands: ${bands}, At risk below; any failed critical check caps the band at At risk.</p>
<p><strong>Evidence</strong> is ids, counts, times and flags, never protected health information. This page is rendered from the signed JSON report <code>${escapeHtml(body.reportId)}</code> (schema <code>${escapeHtml(body.schema)}</code> version ${body.version}), which holds this page's SHA-256: verify the signature and the hash before relying on a copy.</p>
</footer>`;
}
