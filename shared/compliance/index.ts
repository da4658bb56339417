export { reportActivity } from "./activity";
export {
  CHECK_SEVERITIES,
  CHECK_STATUSES,
  type CheckContext,
  type CheckDefinition,
  type CheckSeverity,
  type CheckStatus,
  type Evidence,
  failed,
  HIPAA_SECTIONS,
  type HipaaSection,
  notApplicable,
  notEvaluated,
  type Outcome,
  type PreviousReport,
  passed,
  passIf,
  sectionOf,
} from "./check";
export { CHECKS } from "./checks";
export { type Evaluated, evaluateChecks } from "./evaluate";
export { type Generated, generateReport, type ReportRequest } from "./generate";
export { renderReportHtml } from "./html";
export {
  type Activity,
  type CheckResult,
  REPORT_SCHEMA,
  REPORT_VERSION,
  type Report,
  type ReportBody,
  ReportBodySchema,
  ReportSchema,
} from "./report";
export { SCORE_BANDS, type Score, type ScoreBand, SEVERITY_POINTS, scoreOf } from "./score";
