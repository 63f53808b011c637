// rbac: the permissions each program needs (defined once), the RBAC objects rendered from
// them, and the start-up self-check. The install manifests live in src/manifests/.
export {
  adapterPermissions,
  autoscalerPermissions,
  permissionsFor,
  checksOf,
  INSTALL,
  BUILTIN_HPA_CONTROLLER,
  METRICS_READER_ROLES,
  RESOURCE_METRICS_READER,
  CUSTOM_METRICS_READER,
  PROGRAMS,
} from "./permissions.js";
export type {
  AccessCheck,
  GroupResource,
  PermissionOptions,
  PolicyRule,
  ProgramName,
  ProgramPermissions,
  Requirement,
  Verb,
} from "./permissions.js";
export {
  checkPermissions,
  permissionCheckClient,
  reviewPermissions,
  selfSubjectAccessReviewer,
  selfSubjectReview,
  formatPermissionReport,
  describeCheck,
  isFullyPermitted,
  MissingPermissionsError,
} from "./check.js";
export type {
  AccessReviewer,
  CheckOptions,
  MissingPermission,
  PermissionReport,
  PermissionReviewError,
  ReviewAnswer,
} from "./check.js";
export {
  ensurePermissions,
  enforcePermissionReport,
  PermissionCheckError,
  DEFAULT_PERMISSION_CHECK_TIMEOUT_MS,
} from "./startup.js";
export type { PermissionCheckSettings, StartupCheckOptions } from "./startup.js";
export { rolesForProgram, metricsReaderRbac, metricsReaderSubjects } from "./roles.js";
