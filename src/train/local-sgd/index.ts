// Federated (DiLoCo-style) rounds between data-parallel replicas: see local-sgd.ts.
export {
  LocalSgd,
  localSgdSettings,
  type LocalSgdSettings,
  type OuterRoundReport,
  type ParamIo,
  type ReplicaAverage,
} from './local-sgd';
export { outerStep, pseudoGradient, type OuterHyper, type OuterType } from './outer-optimizer';
export { ringAverage } from './replica-average';
export { firstSync, fragmentRanges, fragmentsStartingAt, syncPlan, type FragmentRange } from './schedule';
