import type { ReportBody } from "../report";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The report as one self-contained HTML document (round foundation: a plain table; the charted, printable
 * page replaces it). Everything printed comes from the body, escaped.
 */
export function renderReportHtml(body: ReportBody): string {
  const rows = body.checks
    .map(
      (check) =>
        `<tr><td>${escapeHtml(check.id)}</td><td>${escapeHtml(check.hipaa)}</td><td>${escapeHtml(check.status)}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Compliance report ${escapeHtml(body.reportId)}</title></head><body><h1>Score ${body.score.value} (${escapeHtml(body.score.band)})</h1><table>${rows}</table></body></html>`;
}
