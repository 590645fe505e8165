{{/*
Shared names, labels and pod settings of the aidi chart. Every define is prefixed "aidi.".
*/}}

{{/* aidi.name: the chart name, or nameOverride. */}}
{{- define "aidi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
aidi.fullname: the prefix of every resource name: fullnameOverride, else the release name (plus
"-<name>" unless it already contains the name). Cut to 40 characters, so that the Service
names (the longest: "<fullname>-scheduler-metrics") stay within 63.
*/}}
{{- define "aidi.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "aidi.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* aidi.chart: chart name and version, for the helm.sh/chart label. */}}
{{- define "aidi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* aidi.labels: the standard labels of every object; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "aidi.labels" -}}
helm.sh/chart: {{ include "aidi.chart" .ctx }}
{{ include "aidi.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: aidi
{{- end -}}

{{/* aidi.selectorLabels: the labels that select one component's pods; same argument as aidi.labels. */}}
{{- define "aidi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aidi.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* aidi.operatorName: name of the operator's Deployment, ServiceAccount, ClusterRole and Service. */}}
{{- define "aidi.operatorName" -}}
{{- printf "%s-operator" (include "aidi.fullname" .) -}}
{{- end -}}

{{/* aidi.schedulerName: name of the scheduler's Deployment, ServiceAccount, ConfigMap and Service. */}}
{{- define "aidi.schedulerName" -}}
{{- printf "%s-scheduler" (include "aidi.fullname" .) -}}
{{- end -}}

{{/* aidi.image: "repository:tag" of an image value; the tag defaults to the chart's appVersion. Call with (dict "ctx" $ "image" .Values.x.image). */}}
{{- define "aidi.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* aidi.podSecurityContext: the pod-level securityContext of every aidi pod. */}}
{{- define "aidi.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
aidi.containerSecurityContext: the container-level securityContext of every aidi container: the
pod's identity again (so each container stands checked on its own), a read-only root filesystem,
no privilege escalation, no capabilities, the RuntimeDefault seccomp profile.
*/}}
{{- define "aidi.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
  - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
aidi.extenderProbe: an exec probe command that GETs a path from the extender on loopback (it
listens on 127.0.0.1 only, where the kubelet's httpGet cannot reach) with bash's /dev/tcp and
succeeds on "HTTP/1.1 200". Call with (dict "ctx" $ "path" "/readyz").
*/}}
{{- define "aidi.extenderProbe" -}}
exec:
  command:
  - bash
  - -c
  - >-
    exec 3<>/dev/tcp/127.0.0.1/{{ .ctx.Values.scheduler.extender.port }} &&
    printf 'GET {{ .path }} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
    read -r -t 5 _ code _ <&3 && [ "$code" = 200 ]
{{- end -}}
