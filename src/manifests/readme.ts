// manifests/README.md, rendered with the rest so that it stays next to what it describes.
import { INSTALL } from "../rbac/permissions.js";
import { ADAPTER } from "./install.js";

const svc = `${ADAPTER.name}.${INSTALL.namespace}.svc`;

export const MANIFESTS_README = `# prom-hpa install manifests

Rendered from code (\`src/manifests/\`, RBAC from \`src/rbac/\`) by \`npm run manifests\`; \`npm run manifests -- --check\` (and a
unit test) fails when these files differ from what the code renders. Edit the code, not the YAML.

\`\`\`sh
kubectl apply -k manifests/              # namespace ${INSTALL.namespace}, RBAC, adapter, autoscaler, APIServices
kubectl apply -k manifests/examples/     # the seed's hello-world Deployment, Service and HPA
\`\`\`

## What is here

- \`namespace.yaml\`, \`service-accounts.yaml\`: namespace \`${INSTALL.namespace}\` (restricted Pod Security), one
  ServiceAccount per program.
- \`rbac/adapter.yaml\`: read the objects metrics describe; \`system:auth-delegator\` (TokenReview,
  SubjectAccessReview); \`extension-apiserver-authentication-reader\` in kube-system.
- \`rbac/autoscaler.yaml\`: HPAs and their status, \`*/scale\`, pods, Events, its leader-election Lease.
- \`rbac/metrics-readers.yaml\`: who may read the metrics APIs: the built-in HPA controller and our
  autoscaler.
- \`adapter/\`: Deployment (2 replicas), Service, PodDisruptionBudget, rules ConfigMap, the four
  APIServices.
- \`autoscaler/\`: Deployment (2 replicas, leader election on a Lease), PodDisruptionBudget.
- \`components/cert-manager/\`: kustomize Component, serving certificate and CA injection by cert-manager.
- \`examples/\`: the seed's hello-world and its autoscaling/v2 HPAs (resource metrics; resource +
  \`cpu_system\`).

Each program checks these permissions itself at start-up (SelfSubjectAccessReview) and names every
one it lacks.

## Who may read metrics, and why not \`system:anonymous\`

\`rbac/metrics-readers.yaml\` lets exactly two identities read \`metrics.k8s.io\`,
\`custom.metrics.k8s.io\` and \`external.metrics.k8s.io\`: kube-controller-manager's HPA
controller (ServiceAccount \`kube-system/horizontal-pod-autoscaler\`, the identity it uses with
\`--use-service-account-credentials\`, as kubeadm and most distributions run it) and our
autoscaler (\`${INSTALL.namespace}/${INSTALL.autoscalerServiceAccount}\`). Add subjects to those two
ClusterRoleBindings for anyone else (a dashboard, \`kubectl top\` users, KEDA).

Older walkthroughs, the seed's among them, bound these roles to the user \`system:anonymous\`,
because their adapter could not tell who was calling: it was not set up to trust the
aggregator's front-proxy certificate, so every proxied request arrived without a user. That
binding makes every metric of every namespace (pod names, request rates, queue lengths,
whatever business numbers an external rule exposes) readable by anyone who can reach the API
server or the adapter's Service without credentials, and it hides broken authentication
(requests succeed because everyone is allowed). The adapter authenticates callers properly
instead: the aggregator's client certificate is verified against the request-header CA in
\`kube-system/extension-apiserver-authentication\` and bearer tokens go through TokenReview,
then each request is authorized with a SubjectAccessReview, so RBAC can name the real callers
and nobody else.

## The serving certificate and the APIServices' caBundle

kube-apiserver proxies metrics requests to the adapter over TLS and verifies the adapter's
certificate against each APIService's \`caBundle\`. The base has no caBundle and never sets
\`insecureSkipTLSVerify\` (that would let anyone who can answer on the Service's address feed
the HPA controller numbers). The adapter reads its pair from Secret \`${ADAPTER.tlsSecret}\`
(\`tls.crt\`, \`tls.key\`), for the name \`${svc}\`. Pick one way to provide both:

1. **A generated pair** (no extra software): \`npm run manifests -- tls --overlay my-install\` writes
   a CA, a serving pair signed by it, and a kustomize overlay that adds the Secret and the
   caBundle patch to all four APIServices; then \`kubectl apply -k my-install/\`. Keep that
   folder out of git (it holds a private key) and re-run it before the certificate expires.
2. **cert-manager**: an overlay with
   \`\`\`yaml
   apiVersion: kustomize.config.k8s.io/v1beta1
   kind: Kustomization
   resources: [path/to/manifests]
   components: [path/to/manifests/components/cert-manager]
   \`\`\`
   issues the certificate into \`${ADAPTER.tlsSecret}\` and annotates the APIServices with
   \`cert-manager.io/inject-ca-from\`, so cert-manager's CA injector fills and rotates the caBundle.
3. **Your own PKI**: create the Secret yourself and patch \`spec.caBundle\` (base64 PEM of the CA)
   into the four APIServices with a kustomize patch targeting \`kind: APIService\`.

## Things to adjust

- \`--prometheus-url\` in \`adapter/deployment.yaml\` (default \`${ADAPTER.prometheusUrl}\`).
- The image: \`images:\` in \`kustomization.yaml\`.
- If metrics-server already serves \`metrics.k8s.io\`, drop \`v1beta1.metrics.k8s.io\` from the
  APIServices (a \`$patch: delete\` patch) or replace metrics-server with the adapter: one API
  group version has exactly one APIService.
- The autoscaler runs with the seed's sync period and delays
  (\`--sync-period=30s --upscale-delay=3m --downscale-delay=5m\`). Turn kube-controller-manager's HPA controller off, or run the
  autoscaler with \`--dry-run\` beside it: two controllers writing one scale subresource fight.
`;
