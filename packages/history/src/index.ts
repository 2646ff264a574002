export { allAnomalies, checkHistory, countAnomalies, severalEpochs } from "./checker.ts";
export type { Anomaly, AnomalyKind, Operation, Verdict } from "./history.ts";
