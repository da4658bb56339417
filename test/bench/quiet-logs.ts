/** Imported first by the benchmarks: keeps per-request INFO lines out of the results table. */
process.env.LOG_LEVEL = "WARN";
