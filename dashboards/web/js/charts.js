// ECharts (vendored ES module build), drawn as SVG, resized with its container, in the
// dashboard's colours. Times on axes are formatted in the city's zone by i18n, never by the
// browser's own zone.

import * as echarts from "/vendor/echarts/echarts.esm.min.js";

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

export function makeChart(el) {
  const chart = echarts.init(el, null, { renderer: "svg" });
  new ResizeObserver(() => chart.resize()).observe(el);
  return chart;
}

/** Options every chart shares; pass the chart's own on top. */
export function base(option) {
  return {
    animation: false,
    textStyle: { fontFamily: FONT, color: COLORS.text },
    grid: { left: 48, right: 16, top: 36, bottom: 32, containLabel: true },
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
