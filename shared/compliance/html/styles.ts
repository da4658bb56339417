/**
 * The report's one stylesheet, inlined (the CSP allows nothing else). System fonts only; light surfaces;
 * status is never told by colour alone (every badge carries its word). Print: A4, section breaks before the
 * long tables, rows and figures never cut across pages, table headers repeated on each page, one chart
 * per row (two side by side shrink their labels below what paper can show), citations that wrap.
 */
export const REPORT_CSS = `
:root {
  color-scheme: light;
  --ink: #1d2330; --muted: #5b6474; --line: #d9dee7; --soft: #f5f7fa; --accent: #1f4e8c;
  --pass: #1e6b2e; --pass-bg: #e6f4ea; --fail: #a3221a; --fail-bg: #fdecea;
  --ne: #7a4a00; --ne-bg: #fff3d6; --na: #4f5660; --na-bg: #eef0f3;
}
* { box-sizing: border-box; }
html { background: #ffffff; }
body { margin: 0; color: var(--ink); background: #ffffff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 40px 48px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
.muted { color: var(--muted); }
.time { white-space: nowrap; }
h1 { font-size: 28px; margin: 0 0 12px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 0 0 6px; display: flex; align-items: center; gap: 10px; }
h3 { font-size: 15px; margin: 0 0 8px; }
.eyebrow { margin: 0 0 4px; color: var(--accent); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.06em; }
.report-header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; margin-bottom: 20px; }
.meta { display: grid; grid-template-columns: minmax(120px, 1fr) minmax(300px, 2.6fr) minmax(190px, 1.3fr) minmax(160px, 1.3fr); gap: 8px 24px; margin: 0; }
.meta dt { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; }
.meta dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.summary { display: flex; gap: 24px; align-items: stretch; margin-bottom: 28px; }
.score-card { flex: 0 0 190px; border: 2px solid var(--line); border-radius: 10px; padding: 14px 16px; text-align: center; background: var(--soft); }
.score-label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); font-weight: 600; }
.score-value { font-size: 56px; font-weight: 800; line-height: 1.05; }
.score-max { font-size: 18px; color: var(--muted); font-weight: 600; }
.band { display: inline-block; margin-top: 6px; padding: 3px 12px; border-radius: 999px; font-weight: 700; font-size: 13px; border: 1px solid currentColor; }
.band-strong { border-color: var(--pass); } .band-strong .band { color: var(--pass); background: var(--pass-bg); }
.band-moderate { border-color: #5d8a2a; } .band-moderate .band { color: #3f6318; background: #f0f6e4; }
.band-weak { border-color: #c77c02; } .band-weak .band { color: var(--ne); background: var(--ne-bg); }
.band-at_risk { border-color: var(--fail); } .band-at_risk .band { color: var(--fail); background: var(--fail-bg); }
.summary-detail { flex: 1; }
.summary-detail p { margin: 0 0 8px; }
.trend { font-weight: 600; }
.trend .arrow { display: inline-block; width: 1.1em; }
.trend-up { color: var(--pass); } .trend-down { color: var(--fail); } .trend-flat, .trend-none { color: var(--muted); }
.band-note { color: var(--fail); font-weight: 600; }
.counts { display: flex; gap: 10px; flex-wrap: wrap; margin: 10px 0 6px; }
.count { min-width: 118px; border-radius: 8px; padding: 8px 12px; border: 1px solid var(--line); }
.count-value { display: block; font-size: 24px; font-weight: 800; line-height: 1.1; }
.count-label { font-size: 12px; font-weight: 600; }
.status-pass { color: var(--pass); background: var(--pass-bg); }
.status-fail { color: var(--fail); background: var(--fail-bg); }
.status-not_evaluated { color: var(--ne); background: var(--ne-bg); }
.status-not_applicable { color: var(--na); background: var(--na-bg); }
.block { margin: 0 0 30px; }
.lead { margin: 0 0 10px; color: var(--muted); }
.empty { padding: 12px 14px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); margin: 0; }
.count-pill { font-size: 13px; padding: 1px 10px; border-radius: 999px; border: 1px solid currentColor; }
table.checks { width: 100%; border-collapse: collapse; font-size: 13px; }
table.checks th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); border-bottom: 2px solid var(--line); padding: 6px 8px; background: #ffffff; }
table.checks td { border-bottom: 1px solid var(--line); padding: 8px; vertical-align: top; }
table.failed-checks td:first-child { border-left: 4px solid var(--fail); }
table.not-evaluated-checks td:first-child { border-left: 4px solid #c77c02; }
table.failed-checks th:nth-child(1) { width: 92px; } table.failed-checks th:nth-child(3) { width: 130px; }
table.failed-checks th:nth-child(4) { width: 24%; } table.failed-checks th:nth-child(5) { width: 30%; }
table.all-checks th:nth-child(1) { width: 118px; } table.all-checks th:nth-child(3) { width: 130px; } table.all-checks th:nth-child(4) { width: 92px; }
table.all-checks th:nth-child(5) { width: 38%; }
.check-title { font-weight: 600; }
.check-id { color: var(--muted); }
.citation { white-space: nowrap; font-weight: 600; }
.layer, .weight { color: var(--muted); font-size: 11px; margin-top: 2px; }
.remediation { color: var(--ink); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11px; font-weight: 700; white-space: nowrap; border: 1px solid currentColor; }
.severity-critical { color: #ffffff; background: #8e1b14; border-color: #8e1b14; }
.severity-high { color: var(--fail); background: var(--fail-bg); }
.severity-medium { color: var(--ne); background: var(--ne-bg); }
.severity-low { color: var(--na); background: var(--na-bg); }
.row-fail td { background: #fff8f7; }
.grant-unreviewed td { background: #fff8f7; }
.grant-badge-on_time { color: var(--pass); background: var(--pass-bg); }
.grant-badge-late { color: var(--ne); background: var(--ne-bg); }
.grant-badge-unreviewed { color: var(--fail); background: var(--fail-bg); }
table.grants th:nth-child(1) { width: 48px; }
dl.evidence { margin: 0; display: grid; grid-template-columns: minmax(80px, max-content) 1fr; gap: 2px 10px; font-size: 12px; }
dl.evidence div { display: contents; }
dl.evidence dt { color: var(--muted); overflow-wrap: anywhere; }
dl.evidence dd { margin: 0; overflow-wrap: anywhere; }
dl.evidence dd code + code { margin-left: 4px; }
.note { margin: 6px 0 0; font-size: 12px; }
.note.remediation { color: var(--fail); }
.note.reason { color: var(--ne); }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 18px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px 10px; background: #ffffff; }
figure.chart h3 { margin-bottom: 4px; }
figure.chart svg { display: block; width: 100%; height: auto; }
figure.chart figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
.rule-section { margin: 18px 0 0; }
.rule-section h3 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.tally { font-weight: 500; font-size: 13px; margin-left: 6px; }
.report-footer { border-top: 1px solid var(--line); margin-top: 32px; padding-top: 12px; font-size: 12px; color: var(--muted); }
.report-footer h2 { font-size: 14px; color: var(--ink); }
@media screen and (max-width: 820px) {
  main { padding: 20px; }
  .summary { flex-direction: column; }
  .meta { grid-template-columns: 1fr 1fr; }
  .charts { grid-template-columns: 1fr; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .meta { grid-template-columns: 1fr 1.6fr; }
  .summary { gap: 16px; }
  .score-card { flex-basis: 150px; }
  .count { min-width: 0; flex: 1; padding: 6px 8px; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  table.checks { font-size: 10.5px; }
  thead { display: table-header-group; }
  tr, figure, .score-card, .counts, .empty { break-inside: avoid; page-break-inside: avoid; }
  .charts-block, .all-checks-block { break-before: page; page-break-before: always; }
  .charts { grid-template-columns: 1fr; gap: 10px; }
  figure.chart { padding: 8px 10px 6px; }
  .citation { white-space: normal; }
  table.failed-checks th:nth-child(1), table.not-evaluated-checks th:nth-child(1) { width: 72px; }
  table.failed-checks th:nth-child(3), table.all-checks th:nth-child(3) { width: 88px; }
  table.all-checks th:nth-child(1) { width: 96px; } table.all-checks th:nth-child(4) { width: 72px; }
  table.all-checks th:nth-child(5) { width: 40%; }
  figure.chart { border-color: #c9ced8; }
  .rule-section { break-inside: auto; }
  .severity-critical { color: #8e1b14; background: var(--fail-bg); }
}
`;
