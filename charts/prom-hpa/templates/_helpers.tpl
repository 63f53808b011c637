{{/* Object names: the release name, with "-prom-hpa" added unless it already says prom-hpa. */}}
{{- define "prom-hpa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "prom-hpa.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prom-hpa.namespace" -}}
{{- .Values.namespaceOverride | default .Release.Namespace -}}
{{- end -}}

{{- define "prom-hpa.adapter.fullname" -}}{{ include "prom-hpa.fullname" . }}-adapter{{- end -}}
{{- define "prom-hpa.autoscaler.fullname" -}}{{ include "prom-hpa.fullname" . }}-autoscaler{{- end -}}

{{/* Selector labels of one component: pass (dict "root" $ "component" "adapter"). */}}
{{- define "prom-hpa.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prom-hpa.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "prom-hpa.labels" -}}
{{ include "prom-hpa.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 }}
{{- with .root.Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "prom-hpa.adapter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "prom-hpa.adapter.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "prom-hpa.autoscaler.serviceAccountName" -}}
{{- if .Values.autoscaler.serviceAccount.create -}}
{{- .Values.autoscaler.serviceAccount.name | default (include "prom-hpa.autoscaler.fullname" .) -}}
{{- else -}}
{{- .Values.autoscaler.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "prom-hpa.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* prometheus-adapter's URL rule: url (templated), ":port" when port is set, then path. */}}
{{- define "prom-hpa.prometheusUrl" -}}
{{ tpl .Values.prometheus.url . }}{{ with .Values.prometheus.port }}:{{ . }}{{ end }}{{ .Values.prometheus.path }}
{{- end -}}

{{/* --log-level from logLevel; a number is prometheus-adapter's klog --v. */}}
{{- define "prom-hpa.logLevel" -}}
{{- $l := .Values.logLevel | default "info" -}}
{{- if kindIs "string" $l -}}
{{- $l -}}
{{- else if ge (int $l) 6 -}}
trace
{{- else if ge (int $l) 4 -}}
debug
{{- else -}}
info
{{- end -}}
{{- end -}}

{{/* The serving certificate comes from a Secret (tls.enable or cert-manager). */}}
{{- define "prom-hpa.servingCertFromSecret" -}}
{{- if or .Values.tls.enable .Values.certManager.enabled }}true{{ end -}}
{{- end -}}

{{- define "prom-hpa.tlsSecretName" -}}{{ include "prom-hpa.adapter.fullname" . }}-tls{{- end -}}

{{/* The Service's DNS names, for self-signed and cert-manager certificates. */}}
{{- define "prom-hpa.serviceHosts" -}}
{{- $svc := include "prom-hpa.adapter.fullname" . -}}
{{- $ns := include "prom-hpa.namespace" . -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/*
The adapter's config.yaml: the default rules then rules.custom under `rules`, rules.external
under `externalRules`, rules.resource under `resourceRules`; a key is left out when empty.
*/}}
{{- define "prom-hpa.adapterConfig" -}}
{{- $rules := list -}}
{{- if .Values.rules.default -}}
{{- $rules = concat $rules (.Files.Get "files/default-rules.yaml" | fromYaml).rules -}}
{{- end -}}
{{- if .Values.rules.custom -}}
{{- $rules = concat $rules .Values.rules.custom -}}
{{- end -}}
# Rendered by the prom-hpa chart from its rules.* values.
{{- if $rules }}
{{ toYaml (dict "rules" $rules) }}
{{- end }}
{{- with .Values.rules.external }}
{{ toYaml (dict "externalRules" .) }}
{{- end }}
{{- with .Values.rules.resource }}
{{ toYaml (dict "resourceRules" .) }}
{{- end }}
{{- end -}}

{{/* A PodDisruptionBudget's limit: minAvailable when set, else maxUnavailable. */}}
{{- define "prom-hpa.pdbLimit" -}}
{{- if not (kindIs "invalid" .minAvailable) -}}
minAvailable: {{ .minAvailable }}
{{- else if not (kindIs "invalid" .maxUnavailable) -}}
maxUnavailable: {{ .maxUnavailable }}
{{- end -}}
{{- with .unhealthyPodEvictionPolicy }}
unhealthyPodEvictionPolicy: {{ . }}
{{- end -}}
{{- end -}}

{{/*
prometheus-adapter flags prom-hpa's adapter does not take (klog's logging flags, --cert-dir):
stop at render time rather than leave the pods crash-looping on "unknown option".
*/}}
{{- define "prom-hpa.checkExtraArguments" -}}
{{- range .Values.extraArguments -}}
{{- $flag := regexFind "^--[a-z-]+" (toString .) -}}
{{- if has $flag (list "--v" "--vmodule" "--logtostderr" "--alsologtostderr" "--stderrthreshold" "--log-dir" "--log-file" "--log-file-max-size" "--skip-headers" "--add-dir-header" "--one-output" "--skip-log-headers") -}}
{{- fail (printf "extraArguments: %s is a klog flag of prometheus-adapter; prom-hpa takes --log-level: set logLevel (info, debug, trace or a --v number) instead" $flag) -}}
{{- else if eq $flag "--cert-dir" -}}
{{- fail "extraArguments: --cert-dir is not a prom-hpa flag; without tls.enable or certManager.enabled the adapter keeps its self-signed certificate in memory" -}}
{{- end -}}
{{- end -}}
{{- end -}}
