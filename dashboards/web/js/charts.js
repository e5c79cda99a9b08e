// ECharts (vendored ES module build), drawn as SVG, resized with its container, in the
// dashboard's colours. Times on axes are formatted in the city's zone by i18n, never by the
// browser's own zone.

// Imported when this module loads but not awaited by it, so that a page fetches its data while
// the 1 MB library is compiled; pages await loadCharts() in their load() before drawing.
let echarts = null;
const library = import("/vendor/echarts/echarts.esm.min.js").then((module) => {
  echarts = module;
  return module;
});
export function loadCharts() {
  return library;
}

export const COLORS = {
  accent: "#c8161d",
  blue: "#2f6fdf",
  teal: "#12877a",
  amber: "#d08a00",
  grey: "#8a94a6",
  light: "#c9d1de",
  text: "#1f2a37",
  muted: "#5d6b7e",
  grid: "#e6eaf0",
};

const FONT = '"PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", system-ui, sans-serif';

/** A chart in el; call after `await loadCharts()` (pages do, in their load()). */
export function makeChart(el) {
  if (!echarts) throw new Error("charts: await loadCharts() first");
  const chart = echarts.init(el, null, { renderer: "svg" });
  new ResizeObserver(() => chart.resize()).observe(el);
  return chart;
}

/** Options every chart shares; pass the chart's own on top. */
export function base(option) {
  return {
    animation: false,
    textStyle: { fontFamily: FONT, color: COLORS.text },
    grid: { left: 48, right: 16, top: 44, bottom: 32, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
    legend: { top: 4, right: 8, textStyle: { color: COLORS.muted } },
    ...option,
  };
}

export function valueAxis(extra = {}) {
  return {
    type: "value",
    axisLine: { show: false },
    splitLine: { lineStyle: { color: COLORS.grid } },
    axisLabel: { color: COLORS.muted },
    ...extra,
  };
}

export function categoryAxis(data, extra = {}) {
  return {
    type: "category",
    data,
    axisTick: { show: false },
    axisLine: { lineStyle: { color: COLORS.light } },
    axisLabel: { color: COLORS.muted },
    ...extra,
  };
}
