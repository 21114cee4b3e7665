export {
  CaseInputs,
  type CaseTolerances,
  CONFORMANCE_CASES,
  type ConformanceCase,
  type KnownIssue,
  knownIssueOn,
  type Tf,
  type Tolerance,
} from './cases';
export {
  type CaseComparison,
  type CaseResult,
  type ConformanceComparison,
  type ConformanceRun,
  compareConformance,
  formatComparison,
  type OutputComparison,
  type OutputValues,
  type RunConformanceOptions,
  runCase,
  runConformance,
} from './run';
