import {
  BarChart,
  type BarSeriesOption,
  CustomChart,
  type CustomSeriesOption,
  LineChart,
  type LineSeriesOption,
} from "echarts/charts";
import {
  AriaComponent,
  GraphicComponent,
  type GraphicComponentOption,
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkAreaComponent,
  type MarkAreaComponentOption,
} from "echarts/components";
import { type ComposeOption, init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { CHECK_STATUSES, type CheckStatus, HIPAA_SECTIONS } from "../check";
import type { ReportBody } from "../report";
import { SCORE_BANDS } from "../score";

/**
 * The report's four charts, drawn by Apache ECharts' server-side renderer (`ssr: true` + `renderToSVGString`):
 * no DOM, no canvas, no script in the output, only SVG elements with inline styles, which the page embeds as
 * is. ECharts escapes every text it draws (titles, axis labels, legend names), so a role or grant id from the
 * body cannot become markup.
 *
 * Determinism: the report's SHA-256 is signed, so the same body must give the same bytes. Animations are
 * off, times are formatted in UTC by us (never the host's locale or zone), and the one thing ECharts makes
 * process-dependent, two counters kept across renders (the `zr<N>-` prefix of element ids and the `cls-<N>`
 * of its hover classes), is renumbered: the prefix becomes the chart's own name, which also keeps ids unique
 * when the four SVGs share one page, and the classes count from 0 in order of appearance.
 */
use([
  BarChart,
  LineChart,
  CustomChart,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  GraphicComponent,
  AriaComponent,
  SVGRenderer,
]);

type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | CustomSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | GraphicComponentOption
  | MarkAreaComponentOption
>;

export const STATUS_COLORS: Readonly<Record<CheckStatus, string>> = {
  pass: "#2e7d32",
  fail: "#c62828",
  not_evaluated: "#c77c02",
  not_applicable: "#9aa1ab",
};
export const STATUS_LABELS: Readonly<Record<CheckStatus, string>> = {
  pass: "Pass",
  fail: "Fail",
  not_evaluated: "Not evaluated",
  not_applicable: "Not applicable",
};
/** Colour-blind-safe palette (Okabe–Ito, without yellow, which vanishes on white paper). */
const ROLE_COLORS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"];
const INK = "#1d2330";
const MUTED = "#5b6474";
const GRID_LINE = "#e3e7ee";
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
const WIDTH = 560;
const HEIGHT = 300;
const DAY_MS = 86_400_000;
/** Light fills behind the score line, one per band, best first (printable: no dark backgrounds). */
const BAND_FILL = ["#e6f4ea", "#f0f6e4", "#fff6dd", "#fdecea"];
/** Above this many days the PHI chart shows only the days with accesses (a bar per day stays legible). */
const MAX_CONTINUOUS_DAYS = 92;
/** The timeline draws at most this many grants (the latest); the caption says how many there were. */
export const MAX_TIMELINE_GRANTS = 30;

export type Chart = { id: string; title: string; caption: string; svg: string };

function renderSvg(name: string, option: ChartOption, height = HEIGHT): string {
  const chart = init(null, null, { renderer: "svg", ssr: true, width: WIDTH, height });
  try {
    chart.setOption({
      animation: false,
      useUTC: true,
      textStyle: { fontFamily: FONT, color: INK },
      ...option,
    });
    const classes = new Map<string, number>();
    return chart
      .renderToSVGString()
      .replace(/(id="|url\(#|class="|\.)zr\d+-/g, `$1${name}-`)
      .replace(new RegExp(`${name}-cls-(\\d+)`, "g"), (_match, counter: string) => {
        if (!classes.has(counter)) classes.set(counter, classes.size);
        return `${name}-cls-${classes.get(counter)}`;
      })
      .replace("<svg ", `<svg role="img" aria-labelledby="${name}-title" `);
  } finally {
    chart.dispose();
  }
}

/** A centred message over an empty plot: the chart stays present (axes, frame) and says why it is bare. */
const noData = (text: string): GraphicComponentOption => ({
  type: "text",
  left: "center",
  top: "middle",
  style: { text, fill: MUTED, fontSize: 14, fontFamily: FONT, fontWeight: "bold" },
});

/**
 * Without a DOM, ECharts estimates text widths, narrower than the browser's fallback sans-serif draws
 * them: wider gaps keep legend entries from running into the next marker.
 */
const LEGEND_GAP = 26;
const axisText = { color: MUTED, fontSize: 11, fontFamily: FONT };
const splitLine = { lineStyle: { color: GRID_LINE } };

/** `2026-11-24T22:03:19.000Z` → `11-24\n22:03` (UTC; the year is in the report's header and the body). */
const dayAndTime = (iso: string) => `${iso.slice(5, 10)}\n${iso.slice(11, 16)}`;

export function scoreHistoryChart(body: ReportBody): Chart {
  const history = body.history;
  const lowest = SCORE_BANDS[SCORE_BANDS.length - 1]?.min ?? 0;
  const bands = [
    ...SCORE_BANDS.map((entry, index) => ({
      name: entry.band,
      from: entry.min,
      to: SCORE_BANDS[index - 1]?.min ?? 100,
    })),
    { name: "at risk", from: 0, to: lowest },
  ];
  const svg = renderSvg("chart-score", {
    aria: { enabled: true },
    grid: { left: 44, right: 78, top: 34, bottom: 52 },
    xAxis: {
      type: "category",
      data: history.map((entry) => dayAndTime(entry.generatedAt)),
      // Points inset from the edges: the last one's label stays clear of the band names on the right.
      boundaryGap: true,
      axisLabel: { ...axisText, interval: 0, fontSize: 10 },
      name: "UTC",
      nameTextStyle: axisText,
      axisLine: { lineStyle: { color: MUTED } },
    },
    yAxis: {
      type: "value",
      min: 0,
      max: 100,
      interval: 25,
      axisLabel: axisText,
      splitLine,
      name: "score",
      nameTextStyle: axisText,
    },
    series: [
      {
        type: "line",
        name: "Score",
        data: history.map((entry, index) => ({
          value: entry.score,
          symbolSize: index === history.length - 1 ? 11 : 7,
        })),
        lineStyle: { color: "#1f4e8c", width: 2.5 },
        itemStyle: { color: "#1f4e8c", borderColor: "#ffffff", borderWidth: 1.5 },
        symbol: "circle",
        label: { show: true, position: "top", color: INK, fontSize: 11, fontWeight: "bold" },
        markArea: {
          silent: true,
          label: { position: "right", color: MUTED, fontSize: 11, distance: 6 },
          data: bands.map((band, index) => [
            { yAxis: band.from, name: band.name, itemStyle: { color: BAND_FILL[index], opacity: 1 } },
            { yAxis: band.to },
          ]),
        },
      },
    ],
  });
  return {
    id: "chart-score",
    title: `Score over the last ${history.length === 1 ? "report" : `${history.length} reports`}`,
    caption:
      history.length === 1
        ? "This is the org's first report: the trend starts with the next one."
        : `Oldest first; this report is the last, larger point. Shaded bands: strong ≥ ${SCORE_BANDS[0].min}, moderate ≥ ${SCORE_BANDS[1].min}, weak ≥ ${SCORE_BANDS[2].min}, at risk below.`,
    svg,
  };
}

export function sectionStatusChart(body: ReportBody): Chart {
  const counts = HIPAA_SECTIONS.map((section) => {
    const inSection = body.checks.filter((check) => check.section === section);
    return Object.fromEntries(
      CHECK_STATUSES.map((status) => [status, inSection.filter((check) => check.status === status).length]),
    ) as Record<CheckStatus, number>;
  });
  const order: CheckStatus[] = ["pass", "fail", "not_evaluated", "not_applicable"];
  const svg = renderSvg("chart-sections", {
    aria: { enabled: true },
    legend: { top: 0, itemGap: LEGEND_GAP, itemWidth: 12, itemHeight: 12, textStyle: axisText },
    grid: { left: 70, right: 24, top: 36, bottom: 34 },
    xAxis: {
      type: "value",
      minInterval: 1,
      axisLabel: axisText,
      splitLine,
      name: "checks",
      nameLocation: "middle",
      nameGap: 22,
      nameTextStyle: axisText,
    },
    yAxis: {
      type: "category",
      inverse: true,
      data: HIPAA_SECTIONS.map((section) => `§${section}`),
      axisLabel: { ...axisText, color: INK, fontWeight: "bold" },
      axisLine: { lineStyle: { color: MUTED } },
    },
    series: order.map(
      (status): BarSeriesOption => ({
        type: "bar",
        name: STATUS_LABELS[status],
        stack: "status",
        barWidth: 22,
        itemStyle: { color: STATUS_COLORS[status], borderColor: "#ffffff", borderWidth: 1 },
        label: {
          show: true,
          color: status === "not_applicable" ? INK : "#ffffff",
          fontSize: 11,
          fontWeight: "bold",
          formatter: (params) => (Number(params.value) > 0 ? String(params.value) : ""),
        },
        data: counts.map((count) => count[status]),
      }),
    ),
  });
  return {
    id: "chart-sections",
    title: "Checks by Security Rule section",
    caption: "Each bar counts the section's checks by status; not-evaluated checks are counted, not dropped.",
    svg,
  };
}

/** Every UTC day from `from` to `to`, inclusive, as `YYYY-MM-DD`. */
function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); time <= Date.parse(to); time += DAY_MS) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}

export function phiAccessChart(body: ReportBody): Chart {
  const rows = body.activity.phiAccessesByDay;
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(row.role, (totals.get(row.role) ?? 0) + row.count);
  const roles = [...totals.keys()].sort(
    (a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const periodDays = daysBetween(body.period.from, body.period.to);
  const dataDays = [...new Set(rows.map((row) => row.day))].sort();
  const days =
    periodDays.length <= MAX_CONTINUOUS_DAYS
      ? [...new Set([...periodDays, ...dataDays])].sort()
      : dataDays.length > 0
        ? dataDays
        : [periodDays[0] ?? body.period.from.slice(0, 10), periodDays[periodDays.length - 1] ?? ""];
  const byRoleAndDay = new Map<string, number>();
  for (const row of rows) {
    const key = `${row.role}\u0000${row.day}`;
    byRoleAndDay.set(key, (byRoleAndDay.get(key) ?? 0) + row.count);
  }
  const total = [...totals.values()].reduce((sum, count) => sum + count, 0);
  const svg = renderSvg("chart-phi", {
    aria: { enabled: true },
    legend: {
      show: roles.length > 0,
      top: 0,
      itemGap: LEGEND_GAP,
      itemWidth: 12,
      itemHeight: 12,
      textStyle: axisText,
    },
    grid: { left: 48, right: 20, top: roles.length > 4 ? 52 : 36, bottom: 40 },
    xAxis: {
      type: "category",
      data: days.map((day) => day.slice(5)),
      axisLabel: { ...axisText, hideOverlap: true },
      axisLine: { lineStyle: { color: MUTED } },
    },
    yAxis: {
      type: "value",
      minInterval: 1,
      ...(total === 0 && { max: 1 }),
      axisLabel: axisText,
      splitLine,
      name: "accesses",
      nameTextStyle: axisText,
    },
    // With no access at all, one series of zeros keeps the axes (the period's days, a 0–1 scale) drawn.
    series:
      roles.length === 0
        ? [{ type: "bar", name: "none", data: days.map(() => 0) }]
        : roles.map(
            (role, index): BarSeriesOption => ({
              type: "bar",
              name: role,
              stack: "role",
              barMaxWidth: 28,
              itemStyle: { color: ROLE_COLORS[index % ROLE_COLORS.length] },
              data: days.map((day) => byRoleAndDay.get(`${role}\u0000${day}`) ?? 0),
            }),
          ),
    ...(total === 0 && { graphic: [noData("No PHI access recorded in this period")] }),
  });
  return {
    id: "chart-phi",
    title: "PHI accesses per day, by role",
    caption:
      total === 0
        ? "No audited access to client data in the period."
        : `${total} audited accesses to client data by ${roles.length} role${roles.length === 1 ? "" : "s"}, per UTC day${periodDays.length > MAX_CONTINUOUS_DAYS ? " (days without access are left out)" : ""}.`,
    svg,
  };
}

export type GrantState = "on_time" | "late" | "unreviewed";
export const GRANT_STATES: Readonly<Record<GrantState, { name: string; color: string }>> = {
  on_time: { name: "Reviewed ≤ 24 h", color: "#2e7d32" },
  late: { name: "Reviewed late", color: "#c77c02" },
  unreviewed: { name: "Not reviewed", color: "#c62828" },
};
type Grant = ReportBody["activity"]["breakGlass"][number];

/** The period's grants, oldest first: the timeline's and the grant table's `#` numbers are positions here. */
export const grantsInOrder = (body: ReportBody): Grant[] =>
  [...body.activity.breakGlass].sort((a, b) =>
    a.grantedAt < b.grantedAt ? -1 : a.grantedAt > b.grantedAt ? 1 : a.grantId < b.grantId ? -1 : 1,
  );

export const grantState = (grant: Grant): GrantState =>
  grant.reviewedAt === null
    ? "unreviewed"
    : Date.parse(grant.reviewedAt) - Date.parse(grant.grantedAt) <= DAY_MS
      ? "on_time"
      : "late";

export function breakGlassChart(body: ReportBody): Chart {
  const all = grantsInOrder(body);
  const first = Math.max(0, all.length - MAX_TIMELINE_GRANTS);
  const shown = all.slice(first);
  const unreviewed = all.filter((grant) => grant.reviewedAt === null).length;
  const end = Date.parse(body.period.to);
  const start = Math.min(Date.parse(body.period.from), ...shown.map((grant) => Date.parse(grant.grantedAt)));
  const max = Math.max(end, ...shown.map((grant) => (grant.reviewedAt ? Date.parse(grant.reviewedAt) : end)));
  const height = Math.max(HEIGHT, 90 + shown.length * 22);
  const series = (Object.keys(GRANT_STATES) as GrantState[]).map(
    (state): CustomSeriesOption => ({
      type: "custom",
      name: GRANT_STATES[state].name,
      itemStyle: { color: GRANT_STATES[state].color },
      encode: { x: [0, 1], y: 2 },
      renderItem: (_params, api) => {
        const from = api.coord([api.value(0), api.value(2)]) as number[];
        const to = api.coord([api.value(1), api.value(2)]) as number[];
        const color = GRANT_STATES[state].color;
        const [x0 = 0, y = 0] = from;
        const [x1 = 0] = to;
        return {
          type: "group",
          children: [
            {
              type: "line",
              shape: { x1: x0, y1: y, x2: x1, y2: y },
              style: {
                stroke: color,
                lineWidth: 4,
                lineCap: "round",
                ...(state === "unreviewed" && { lineDash: [6, 4] }),
              },
            },
            { type: "circle", shape: { cx: x0, cy: y, r: 5 }, style: { fill: color } },
            state === "unreviewed"
              ? {
                  type: "text",
                  x: x1,
                  y: y - 7,
                  style: {
                    text: "✕ not reviewed",
                    fill: color,
                    fontSize: 11,
                    fontWeight: "bold",
                    align: "right",
                    verticalAlign: "bottom",
                  },
                }
              : {
                  type: "circle",
                  shape: { cx: x1, cy: y, r: 5 },
                  style: { fill: "#ffffff", stroke: color, lineWidth: 2 },
                },
          ],
        };
      },
      data: shown.flatMap((grant, index) =>
        grantState(grant) === state
          ? [[Date.parse(grant.grantedAt), grant.reviewedAt ? Date.parse(grant.reviewedAt) : end, index]]
          : [],
      ),
    }),
  );
  const svg = renderSvg(
    "chart-breakglass",
    {
      aria: { enabled: true },
      legend: {
        show: shown.length > 0,
        top: 0,
        itemGap: LEGEND_GAP,
        itemWidth: 12,
        itemHeight: 12,
        textStyle: axisText,
      },
      grid: { left: 52, right: 24, top: 36, bottom: 40 },
      xAxis: {
        type: "time",
        min: start,
        max,
        axisLabel: { ...axisText, hideOverlap: true, formatter: "{MM}-{dd}" },
        axisLine: { show: true, lineStyle: { color: MUTED } },
        splitLine,
      },
      yAxis: {
        type: "category",
        inverse: true,
        // Grant ids are long (UUIDs): the axis numbers the grants, the table under the charts names them.
        data: shown.length === 0 ? [""] : shown.map((_grant, index) => `#${first + index + 1}`),
        axisLabel: { ...axisText, color: INK, fontWeight: "bold" },
        axisLine: { lineStyle: { color: MUTED } },
      },
      series,
      ...(shown.length === 0 && { graphic: [noData("No break-glass grant in this period")] }),
    },
    height,
  );
  const grants = `${all.length} break-glass grant${all.length === 1 ? "" : "s"}`;
  return {
    id: "chart-breakglass",
    title: "Break-glass grants: grant → review",
    caption:
      all.length === 0
        ? "No emergency access was granted in the period."
        : `${grants} in the period, ${unreviewed} not reviewed${all.length > shown.length ? `; the latest ${shown.length} are drawn` : ""}. Each line runs from the grant (filled dot) to its review (open dot); an unreviewed grant runs dashed to the report's end. Numbers refer to the grant table below.`,
    svg,
  };
}

export const reportCharts = (body: ReportBody): Chart[] => [
  scoreHistoryChart(body),
  sectionStatusChart(body),
  phiAccessChart(body),
  breakGlassChart(body),
];
