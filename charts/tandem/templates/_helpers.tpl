{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "tandem.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or <release> when it already contains the chart name.
*/}}
{{- define "tandem.fullname" -}}
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
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "tandem.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "tandem.labels" -}}
helm.sh/chart: {{ include "tandem.chart" . }}
{{ include "tandem.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tandem
{{- end }}

{{/*
Selector labels shared by everything of this release.
*/}}
{{- define "tandem.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tandem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector of the proxy pods (Deployment, Service, PodDisruptionBudget, ServiceMonitor). The
component label keeps the migration Job's pod out of the Service's endpoints.
*/}}
{{- define "tandem.proxySelectorLabels" -}}
{{ include "tandem.selectorLabels" . }}
app.kubernetes.io/component: proxy
{{- end }}

{{/*
ServiceAccount of the proxy pods.
*/}}
{{- define "tandem.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tandem.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
ServiceAccount of the migration Job. A pre-install hook runs before the chart's own
ServiceAccount exists, so a chart-created one cannot be used on install.
*/}}
{{- define "tandem.migrationServiceAccountName" -}}
{{- if .Values.migrationJob.serviceAccountName }}
{{- .Values.migrationJob.serviceAccountName }}
{{- else if not .Values.serviceAccount.create }}
{{- default "default" .Values.serviceAccount.name }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/*
Names of the chart-managed objects.
*/}}
{{- define "tandem.secretName" -}}
{{- include "tandem.fullname" . }}
{{- end }}

{{- define "tandem.migrationSecretName" -}}
{{- printf "%s-migrate" (include "tandem.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "tandem.configMapName" -}}
{{- printf "%s-config" (include "tandem.fullname" . | trunc 56 | trimSuffix "-") }}
{{- end }}

{{/*
Image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "tandem.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
Validation of the values, invoked at the top of the templates: `helm template` / `helm install`
fail with one line naming the values to fix.
*/}}
{{- define "tandem.validate" -}}
{{- $db := .Values.db -}}
{{- if and $db.url $db.useExisting -}}
{{- fail "tandem: db.url and db.useExisting are mutually exclusive: set db.url (plain writer URL) or db.useExisting with db.endpoint and db.secret.name" -}}
{{- end -}}
{{- if not (or $db.url $db.useExisting) -}}
{{- fail "tandem: no writer database configured: set db.url, or db.useExisting=true with db.endpoint and db.secret.name" -}}
{{- end -}}
{{- if $db.useExisting -}}
{{- $missing := list -}}
{{- if not $db.endpoint }}{{ $missing = append $missing "db.endpoint" }}{{ end -}}
{{- if not $db.secret.name }}{{ $missing = append $missing "db.secret.name" }}{{ end -}}
{{- if not $db.database }}{{ $missing = append $missing "db.database" }}{{ end -}}
{{- if $missing -}}
{{- fail (printf "tandem: db.useExisting=true requires db.endpoint, db.database and db.secret.name (missing: %s)" (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
{{- if and $db.readReplicaUrl $db.secret.readReplicaUrlKey -}}
{{- fail "tandem: db.readReplicaUrl and db.secret.readReplicaUrlKey are mutually exclusive: set only one reader source" -}}
{{- end -}}
{{- if and $db.secret.readReplicaUrlKey (not $db.secret.name) -}}
{{- fail "tandem: db.secret.readReplicaUrlKey requires db.secret.name (the existing Secret holding the reader URL)" -}}
{{- end -}}
{{- if and .Values.masterKey .Values.masterKeySecret.name -}}
{{- fail "tandem: masterKey and masterKeySecret.name are mutually exclusive: set only one" -}}
{{- end -}}
{{- if not (or .Values.masterKey .Values.masterKeySecret.name) -}}
{{- fail "tandem: a master key is required: set masterKey, or masterKeySecret.name (and masterKeySecret.key) for an existing Secret" -}}
{{- end -}}
{{- if and .Values.masterKeySecret.name (not .Values.masterKeySecret.key) -}}
{{- fail "tandem: masterKeySecret.name requires masterKeySecret.key" -}}
{{- end -}}
{{- range .Values.migrationJob.extraEnv -}}
{{- if eq (toString .name) "DATABASE_URL_READ_REPLICA" -}}
{{- fail "tandem: migrationJob.extraEnv must not set DATABASE_URL_READ_REPLICA: migrations run against the writer only" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage)) -}}
{{- fail "tandem: autoscaling.enabled requires autoscaling.targetCPUUtilizationPercentage or autoscaling.targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if .Values.podDisruptionBudget.enabled -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) -}}
{{- fail "tandem: podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are mutually exclusive: set one, null the other" -}}
{{- end -}}
{{- if and (kindIs "invalid" $pdb.minAvailable) (kindIs "invalid" $pdb.maxUnavailable) -}}
{{- fail "tandem: podDisruptionBudget.enabled requires podDisruptionBudget.minAvailable or podDisruptionBudget.maxUnavailable" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
True ("true") when a reader is configured.
*/}}
{{- define "tandem.hasReader" -}}
{{- if or .Values.db.readReplicaUrl .Values.db.secret.readReplicaUrlKey }}true{{ end }}
{{- end }}

{{/*
Data of the chart-managed Secret (base64). Shared by secret.yaml and the checksum/secret
annotation, so the checksum changes exactly when a stored value does.
*/}}
{{- define "tandem.secretData" -}}
{{- if and .Values.db.url (not .Values.db.useExisting) }}
DATABASE_URL: {{ .Values.db.url | b64enc | quote }}
{{- end }}
{{- with .Values.db.readReplicaUrl }}
DATABASE_URL_READ_REPLICA: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.masterKey }}
MASTER_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
Contents of the proxy config file; shared by configmap.yaml and the checksum/config annotation.
*/}}
{{- define "tandem.proxyConfig" -}}
{{- toYaml (default dict .Values.proxyConfig) }}
{{- end }}

{{/*
Database environment shared by the Deployment and the migration Job.
Parameters (dict):
  ctx        the root context
  reader     include the reader (DATABASE_URL_READ_REPLICA, its region): true for the
             Deployment, false for the migration Job, which must only ever see the writer
  secretName the Secret holding DATABASE_URL in plain-URL mode
URLs and passwords only ever appear as secretKeyRef, never as a literal value.
*/}}
{{- define "tandem.dbEnv" -}}
{{- $ctx := .ctx -}}
{{- $db := $ctx.Values.db -}}
{{- if $db.useExisting }}
- name: DATABASE_HOST
  value: {{ $db.endpoint | quote }}
- name: DATABASE_PORT
  value: {{ printf "%d" (int64 $db.port) | quote }}
- name: DATABASE_NAME
  value: {{ $db.database | quote }}
- name: DATABASE_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.usernameKey | quote }}
{{- if not $db.iamAuth }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.passwordKey | quote }}
{{- end }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName | quote }}
      key: DATABASE_URL
{{- end }}
{{- if .reader }}
{{- if $db.readReplicaUrl }}
- name: DATABASE_URL_READ_REPLICA
  valueFrom:
    secretKeyRef:
      name: {{ include "tandem.secretName" $ctx | quote }}
      key: DATABASE_URL_READ_REPLICA
{{- else if $db.secret.readReplicaUrlKey }}
- name: DATABASE_URL_READ_REPLICA
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.readReplicaUrlKey | quote }}
{{- end }}
{{- end }}
{{- if $db.iamAuth }}
- name: IAM_TOKEN_DB_AUTH
  value: "true"
{{- with $db.awsRegion }}
- name: AWS_RDS_REGION
  value: {{ . | quote }}
{{- end }}
{{- if and .reader (include "tandem.hasReader" $ctx) $db.readReplicaAwsRegion }}
- name: AWS_RDS_READ_REPLICA_REGION
  value: {{ $db.readReplicaAwsRegion | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Human-readable database mode, for NOTES.txt.
*/}}
{{- define "tandem.dbMode" -}}
{{- $db := .Values.db -}}
{{- if $db.readReplicaUrl -}}
reader from plain URL (db.readReplicaUrl, kept in Secret {{ include "tandem.secretName" . }})
{{- else if $db.secret.readReplicaUrlKey -}}
reader from existing Secret ({{ $db.secret.name }}, key {{ $db.secret.readReplicaUrlKey }})
{{- else -}}
single database (no read replica: every query goes to the writer)
{{- end -}}
{{- end }}
