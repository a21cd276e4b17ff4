{{/*
The chart's name, or nameOverride. Truncated at 63 chars because some Kubernetes name fields are limited to this
(by the DNS naming spec).
*/}}
{{- define "sentiment-analysis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name: the release name, followed by the chart name unless the release name already
contains it. Truncated at 63 chars (DNS naming spec).
*/}}
{{- define "sentiment-analysis.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the TF Serving Deployment and Service: the fullname cut so that "-tf-serving" still fits in 63 chars.
*/}}
{{- define "sentiment-analysis.tfServing.fullname" -}}
{{- printf "%s-tf-serving" (include "sentiment-analysis.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "sentiment-analysis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: name and instance only, never anything that changes between releases (a Deployment's
spec.selector is immutable). The component helpers below add app.kubernetes.io/component.
*/}}
{{- define "sentiment-analysis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sentiment-analysis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels: the selector labels plus version, chart, manager and the application they belong to.
*/}}
{{- define "sentiment-analysis.labels" -}}
helm.sh/chart: {{ include "sentiment-analysis.chart" . }}
{{ include "sentiment-analysis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sentiment-analysis
{{- end }}

{{/*
The API's labels and selector labels (component api).
*/}}
{{- define "sentiment-analysis.api.selectorLabels" -}}
{{ include "sentiment-analysis.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "sentiment-analysis.api.labels" -}}
{{ include "sentiment-analysis.labels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/*
TF Serving's labels and selector labels (component tf-serving).
*/}}
{{- define "sentiment-analysis.tfServing.selectorLabels" -}}
{{ include "sentiment-analysis.selectorLabels" . }}
app.kubernetes.io/component: tf-serving
{{- end }}

{{- define "sentiment-analysis.tfServing.labels" -}}
{{ include "sentiment-analysis.labels" . }}
app.kubernetes.io/component: tf-serving
{{- end }}

{{/*
The API image (also used by TF Serving's model-copy init container and the helm test pod); the tag defaults to the
chart's appVersion, which `npm run version:sync` keeps equal to package.json's version.
*/}}
{{- define "sentiment-analysis.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{- define "sentiment-analysis.tfServing.image" -}}
{{- printf "%s:%s" .Values.tfServing.image.repository (.Values.tfServing.image.tag | toString) }}
{{- end }}

{{/*
The model's folder inside the API image (MODEL_DIR), whose numeric version folders hold the ONNX and SavedModel files.
*/}}
{{- define "sentiment-analysis.modelDir" -}}
{{- printf "%s/%s" (.Values.model.basePath | trimSuffix "/") .Values.model.name }}
{{- end }}

{{/*
TF Serving's REST URL inside the cluster: config.TF_SERVING_URL when set, else this release's TF Serving Service
when tfServing.enabled, else empty (the API's own default applies and v2 answers 503 until it is set).
*/}}
{{- define "sentiment-analysis.tfServingUrl" -}}
{{- if .Values.config.TF_SERVING_URL }}
{{- .Values.config.TF_SERVING_URL }}
{{- else if .Values.tfServing.enabled }}
{{- printf "http://%s:%d" (include "sentiment-analysis.tfServing.fullname" .) (.Values.tfServing.service.restPort | int) }}
{{- end }}
{{- end }}

{{/*
An environment variable's value as a string: YAML numbers arrive as float64 (1e+06 through a plain `quote`), so whole
numbers go through int64 first; fractions (0.5) stay as they are; booleans become true/false.
*/}}
{{- define "sentiment-analysis.envValue" -}}
{{- if kindIs "string" . }}
{{- . }}
{{- else if kindIs "bool" . }}
{{- ternary "true" "false" . }}
{{- else if and (kindIs "float64" .) (ne (. | int64 | float64) .) }}
{{- . | toString }}
{{- else }}
{{- . | int64 | toString }}
{{- end }}
{{- end }}

{{/*
Probe settings (everything but `enabled`), for a probe whose handler the template fixes.
*/}}
{{- define "sentiment-analysis.probeSettings" -}}
{{- with omit . "enabled" }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
An int-or-string value (a count or a percentage such as 50%), as a YAML scalar.
*/}}
{{- define "sentiment-analysis.intOrPercent" -}}
{{- if kindIs "string" . }}
{{- . | quote }}
{{- else }}
{{- . | int64 }}
{{- end }}
{{- end }}

{{/*
tfServing.versions as version strings joined by "," (integers from --set included); splitList "," gives the list.
*/}}
{{- define "sentiment-analysis.tfServing.versions" -}}
{{- $versions := list }}
{{- range .Values.tfServing.versions }}
{{- $versions = append $versions (include "sentiment-analysis.envValue" .) }}
{{- end }}
{{- join "," $versions }}
{{- end }}

{{/*
TF Serving's model config (text-format ModelServerConfig) from tfServing.versions and tfServing.labels: the model at
/models/<model.name>, the versions loaded side by side, the labels sorted by name. The same text as
`npm run version:sync` writes for docker compose and k8s/ (tools/release/sync-versions.ts). Fails when a label
points at a version that is not served.
*/}}
{{- define "sentiment-analysis.tfServing.modelConfig" -}}
{{- $versions := include "sentiment-analysis.tfServing.versions" . | splitList "," }}
{{- range $label, $version := .Values.tfServing.labels }}
{{- if not (has (include "sentiment-analysis.envValue" $version) $versions) }}
{{- fail (printf "tfServing.labels.%s is version %s, which tfServing.versions (%s) does not list" $label (include "sentiment-analysis.envValue" $version) (join ", " $versions)) }}
{{- end }}
{{- end }}
# TensorFlow Serving model config (text-format ModelServerConfig), generated: npm run version:sync writes it from
# package.json (config.servedModelVersions, config.modelVersionLabels), the Helm chart from tfServing.versions
# and tfServing.labels. TF Serving reads it at start.
model_config_list {
  config {
    name: {{ .Values.model.name | quote }}
    base_path: {{ printf "/models/%s" .Values.model.name | quote }}
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        {{- range $versions }}
        versions: {{ . }}
        {{- end }}
      }
    }
    {{- range $label, $version := .Values.tfServing.labels }}
    version_labels {
      key: {{ $label | quote }}
      value: {{ include "sentiment-analysis.envValue" $version }}
    }
    {{- end }}
  }
}
{{- end }}
