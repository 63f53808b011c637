// The chart lives with the product now (`prom-hpa replay` draws with it too).
export * from "../../src/chart/svg.js";
