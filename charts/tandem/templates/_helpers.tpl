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
ServiceAccount of the migration Job: the proxy pods' own, so IRSA / Pod Identity give both the
same AWS role. A chart-created one is also rendered as a pre-install hook (serviceaccount-hook.yaml)
so it exists before the Job on the first install.
*/}}
{{- define "tandem.migrationServiceAccountName" -}}
{{- default (include "tandem.serviceAccountName" .) .Values.migrationJob.serviceAccountName }}
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
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Master key sources after folding in LiteLLM's names (masterkey, masterkeySecretName/Key).
*/}}
{{- define "tandem.masterKeyValue" -}}
{{- default .Values.masterkey .Values.masterKey }}
{{- end }}
{{- define "tandem.masterKeySecretName" -}}
{{- default .Values.masterkeySecretName .Values.masterKeySecret.name }}
{{- end }}
{{- define "tandem.masterKeySecretKey" -}}
{{- default .Values.masterKeySecret.key .Values.masterkeySecretKey }}
{{- end }}

{{/*
Migration mode: migrationJob.mode, or LiteLLM's migrationJob.hooks.{helm,argocd}.enabled when given.
*/}}
{{- define "tandem.migrationMode" -}}
{{- $job := .Values.migrationJob -}}
{{- $hooks := default dict $job.hooks -}}
{{- if and $hooks.helm $hooks.helm.enabled -}}helmHook
{{- else if and $hooks.argocd $hooks.argocd.enabled -}}argocd
{{- else -}}{{ $job.mode }}
{{- end -}}
{{- end }}

{{/*
"true" when the migration runs as a Job (helmHook or argocd mode).
*/}}
{{- define "tandem.migrationJob" -}}
{{- if and .Values.migrationJob.enabled (ne (include "tandem.migrationMode" .) "initContainer") }}true{{ end }}
{{- end }}

{{/*
A probe; LiteLLM's shape (`path:` next to the timings) becomes an httpGet on the API port.
*/}}
{{- define "tandem.probe" -}}
{{- if hasKey . "path" -}}
{{- $probe := omit . "path" -}}
{{- $_ := set $probe "httpGet" (dict "path" .path "port" "http") -}}
{{- toYaml $probe }}
{{- else -}}
{{- toYaml . }}
{{- end -}}
{{- end }}

{{/*
LOG_LEVEL: tandem's level, or LiteLLM's upper-case level mapped onto it.
*/}}
{{- define "tandem.logLevel" -}}
{{- $litellm := dict "CRITICAL" "fatal" "ERROR" "error" "WARNING" "warn" "INFO" "info" "DEBUG" "debug" -}}
{{- default .Values.logLevel (get $litellm .Values.logLevel) -}}
{{- end }}

{{/*
Where the writer comes from: "url" (db.url), "urlKey" (db.secret.urlKey), "parts" (db.useExisting).
*/}}
{{- define "tandem.writerSource" -}}
{{- if .Values.db.url }}url{{ else if .Values.db.secret.urlKey }}urlKey{{ else if .Values.db.useExisting }}parts{{ end }}
{{- end }}

{{/*
"true" when a value is in use: non-empty, not false/0, and for a map with an `enabled` key, enabled.
*/}}
{{- define "tandem.inUse" -}}
{{- if kindIs "map" . }}
{{- if hasKey . "enabled" }}{{ if .enabled }}true{{ end }}{{ else if . }}true{{ end }}
{{- else if . }}true{{ end }}
{{- end }}

{{/*
Validation of the values, invoked at the top of the templates: `helm template` / `helm install`
fail with one line naming the values to fix.
*/}}
{{- define "tandem.validate" -}}
{{- include "tandem.validateLiteLLM" . -}}
{{- include "tandem.validateDatabase" . -}}
{{- include "tandem.validateRedis" . -}}
{{- $mk := include "tandem.masterKeyValue" . -}}
{{- $mks := include "tandem.masterKeySecretName" . -}}
{{- if and .Values.masterKey .Values.masterkey -}}
{{- fail "tandem: masterKey and masterkey (LiteLLM's name) are the same value: set only one" -}}
{{- end -}}
{{- if and .Values.masterKeySecret.name .Values.masterkeySecretName -}}
{{- fail "tandem: masterKeySecret.name and masterkeySecretName (LiteLLM's name) are the same value: set only one" -}}
{{- end -}}
{{- if and $mk $mks -}}
{{- fail "tandem: masterKey and masterKeySecret.name are mutually exclusive: set only one (LiteLLM names: masterkey, masterkeySecretName)" -}}
{{- end -}}
{{- if not (or $mk $mks) -}}
{{- fail "tandem: a master key is required: set masterKey, or masterKeySecret.name (and masterKeySecret.key) for an existing Secret (LiteLLM names: masterkey, masterkeySecretName, masterkeySecretKey)" -}}
{{- end -}}
{{- if and $mks (not (include "tandem.masterKeySecretKey" .)) -}}
{{- fail "tandem: masterKeySecret.name requires masterKeySecret.key" -}}
{{- end -}}
{{- if and .Values.proxy_config .Values.proxyConfig (ne (toYaml .Values.proxyConfig) (toYaml (dict "model_list" (list)))) -}}
{{- fail "tandem: proxyConfig and proxy_config (LiteLLM's name) are the same value: set only one" -}}
{{- end -}}
{{- range .Values.migrationJob.extraEnv -}}
{{- if eq (toString .name) "DATABASE_URL_READ_REPLICA" -}}
{{- fail "tandem: migrationJob.extraEnv must not set DATABASE_URL_READ_REPLICA: migrations run against the writer only" -}}
{{- end -}}
{{- end -}}
{{- with .Values.migrationJob.hooks -}}
{{- if and .helm .argocd .helm.enabled .argocd.enabled -}}
{{- fail "tandem: migrationJob.hooks.helm.enabled and migrationJob.hooks.argocd.enabled (LiteLLM's names) are mutually exclusive: enable one, or use migrationJob.mode" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage)) -}}
{{- fail "tandem: autoscaling.enabled requires autoscaling.targetCPUUtilizationPercentage or autoscaling.targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int64 .Values.autoscaling.minReplicas) (int64 .Values.autoscaling.maxReplicas)) -}}
{{- fail (printf "tandem: autoscaling.minReplicas (%d) must not exceed autoscaling.maxReplicas (%d)" (int64 .Values.autoscaling.minReplicas) (int64 .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if ge (int64 .Values.shutdownDelaySeconds) (sub (int64 .Values.terminationGracePeriodSeconds) 2 | int64) -}}
{{- fail (printf "tandem: shutdownDelaySeconds (%d) must be at least 3 s shorter than terminationGracePeriodSeconds (%d): in-flight requests need the rest of the grace period (less 2 s) to drain" (int64 .Values.shutdownDelaySeconds) (int64 .Values.terminationGracePeriodSeconds)) -}}
{{- end -}}
{{- if .Values.podDisruptionBudget.enabled -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if and (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) -}}
{{- fail "tandem: podDisruptionBudget.minAvailable and podDisruptionBudget.maxUnavailable are mutually exclusive: set one, null the other" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) -}}
{{- fail "tandem: httpRoute.enabled requires httpRoute.parentRefs (the Gateway(s) to attach to)" -}}
{{- end -}}
{{- if and .Values.networkPolicy.metricsFrom (kindIs "invalid" .Values.metrics.port) -}}
{{- fail "tandem: networkPolicy.metricsFrom requires metrics.port (metrics on their own port)" -}}
{{- end -}}
{{- if and (not (kindIs "invalid" .Values.metrics.port)) (eq (int64 .Values.metrics.port) 4000) -}}
{{- fail "tandem: metrics.port must differ from the API port 4000 (null serves /metrics on the API port)" -}}
{{- end -}}
{{- end }}

{{/*
The database rules: exactly one writer source, each with what it needs.
*/}}
{{- define "tandem.validateDatabase" -}}
{{- $db := .Values.db -}}
{{- if $db.deployStandalone -}}
{{- fail "tandem: db.deployStandalone=true is not supported: tandem does not bundle Postgres. Set db.deployStandalone=false and point the chart at your database (db.url, db.secret.urlKey, or db.useExisting with db.endpoint)" -}}
{{- end -}}
{{- if $db.useStackgresOperator -}}
{{- fail "tandem: db.useStackgresOperator=true is not supported: tandem does not deploy a database. Set it to false and point the chart at your database" -}}
{{- end -}}
{{- $sources := list -}}
{{- if $db.url }}{{ $sources = append $sources "db.url" }}{{ end -}}
{{- if $db.secret.urlKey }}{{ $sources = append $sources "db.secret.urlKey" }}{{ end -}}
{{- if $db.useExisting }}{{ $sources = append $sources "db.useExisting" }}{{ end -}}
{{- if gt (len $sources) 1 -}}
{{- if and $db.url $db.useExisting (not $db.secret.urlKey) -}}
{{- fail "tandem: db.url and db.useExisting are mutually exclusive: set db.url (plain writer URL) or db.useExisting with db.endpoint and db.secret.name" -}}
{{- end -}}
{{- fail (printf "tandem: %s are mutually exclusive writer sources: set only one" (join ", " $sources)) -}}
{{- end -}}
{{- if not $sources -}}
{{- fail "tandem: no writer database configured: set db.url, or db.useExisting=true with db.secret.name and db.endpoint (or the host in db.secret.endpointKey), or db.secret.name with db.secret.urlKey (the whole writer URL from an existing Secret)" -}}
{{- end -}}
{{- if and $db.secret.urlKey (not $db.secret.name) -}}
{{- fail "tandem: db.secret.urlKey requires db.secret.name (the existing Secret holding the writer URL)" -}}
{{- end -}}
{{- if $db.useExisting -}}
{{- $missing := list -}}
{{- if not (or $db.endpoint $db.secret.endpointKey) }}{{ $missing = append $missing "db.endpoint" }}{{ end -}}
{{- if not $db.secret.name }}{{ $missing = append $missing "db.secret.name" }}{{ end -}}
{{- if not $db.database }}{{ $missing = append $missing "db.database" }}{{ end -}}
{{- if $missing -}}
{{- fail (printf "tandem: db.useExisting=true requires db.endpoint, db.database and db.secret.name (missing: %s). The host can instead come from a key of the Secret (db.secret.endpointKey); other writer sources: db.url, or db.secret.name with db.secret.urlKey (the whole URL)" (join ", " $missing)) -}}
{{- end -}}
{{- else -}}
{{- if $db.secret.endpointKey -}}
{{- fail "tandem: db.secret.endpointKey requires db.useExisting=true (it gives the host of the writer built from parts)" -}}
{{- end -}}
{{- if $db.params -}}
{{- fail "tandem: db.params applies to the writer built from parts (db.useExisting=true); with db.url or db.secret.urlKey put the parameters in the URL's query string" -}}
{{- end -}}
{{- end -}}
{{- $readers := list -}}
{{- if $db.readReplicaUrl }}{{ $readers = append $readers "db.readReplicaUrl" }}{{ end -}}
{{- if $db.readReplicaUrls }}{{ $readers = append $readers "db.readReplicaUrls" }}{{ end -}}
{{- if $db.secret.readReplicaUrlKey }}{{ $readers = append $readers "db.secret.readReplicaUrlKey" }}{{ end -}}
{{- if $db.secret.readReplicaUrlKeys }}{{ $readers = append $readers "db.secret.readReplicaUrlKeys" }}{{ end -}}
{{- if and $db.readReplicaUrl $db.secret.readReplicaUrlKey (eq (len $readers) 2) -}}
{{- fail "tandem: db.readReplicaUrl and db.secret.readReplicaUrlKey are mutually exclusive: set only one reader source" -}}
{{- end -}}
{{- if gt (len $readers) 1 -}}
{{- fail (printf "tandem: %s are mutually exclusive reader sources: set only one (a list takes several readers)" (join ", " $readers)) -}}
{{- end -}}
{{- if and $db.secret.readReplicaUrlKey (not $db.secret.name) -}}
{{- fail "tandem: db.secret.readReplicaUrlKey requires db.secret.name (the existing Secret holding the reader URL)" -}}
{{- end -}}
{{- if and $db.secret.readReplicaUrlKeys (not $db.secret.name) -}}
{{- fail "tandem: db.secret.readReplicaUrlKeys requires db.secret.name (the existing Secret holding the reader URLs)" -}}
{{- end -}}
{{- if and (ne $db.readerDiscovery.mode "none") (not $readers) -}}
{{- fail (printf "tandem: db.readerDiscovery.mode=%s needs a reader address to look behind: set db.readReplicaUrl (e.g. the replicas' Service) or db.secret.readReplicaUrlKey" $db.readerDiscovery.mode) -}}
{{- end -}}
{{- if and $db.readerDiscovery.dnsServers (ne $db.readerDiscovery.mode "dns") -}}
{{- fail "tandem: db.readerDiscovery.dnsServers applies only with db.readerDiscovery.mode=dns" -}}
{{- end -}}
{{- if and $db.readerDiscovery.zone (ne $db.readerDiscovery.mode "kubernetes") -}}
{{- fail "tandem: db.readerDiscovery.zone applies only with db.readerDiscovery.mode=kubernetes (the zones come from the EndpointSlices)" -}}
{{- end -}}
{{- if and $db.readerDiscovery.instanceHostPattern (ne $db.readerDiscovery.mode "aurora") -}}
{{- fail "tandem: db.readerDiscovery.instanceHostPattern applies only with db.readerDiscovery.mode=aurora" -}}
{{- end -}}
{{- if and (or $db.readerDiscovery.service $db.readerDiscovery.namespace) (ne $db.readerDiscovery.mode "kubernetes") -}}
{{- fail "tandem: db.readerDiscovery.service and db.readerDiscovery.namespace apply only with db.readerDiscovery.mode=kubernetes" -}}
{{- end -}}
{{- range $i, $url := $db.readReplicaUrls -}}
{{- if contains "," $url -}}
{{- fail (printf "tandem: db.readReplicaUrls[%d] contains a comma: give one URL per item" $i) -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
Keys of LiteLLM's chart that tandem does not implement: accepted while unused (a LiteLLM values file
carries many of them at their defaults), refused by name once they would change something.
*/}}
{{- define "tandem.validateLiteLLM" -}}
{{- $hints := dict
  "numWorkers" "tandem runs one Node.js process per pod: scale with replicaCount or autoscaling"
  "separateHealthApp" "health endpoints are served on the API port; use metrics.port to move /metrics"
  "separateHealthPort" "health endpoints are served on the API port; use metrics.port to move /metrics"
  "keda" "use autoscaling (a HorizontalPodAutoscaler)"
  "command" "the chart runs the image's `tandem serve`"
  "args" "the chart runs the image's `tandem serve`"
  "pdb" "use podDisruptionBudget"
  "lifecycle" "tandem drains on SIGTERM itself: use shutdownDelaySeconds and terminationGracePeriodSeconds"
-}}
{{- range $key := keys $hints | sortAlpha -}}
{{- if and (hasKey $.Values $key) (include "tandem.inUse" (get $.Values $key)) -}}
{{- fail (printf "tandem: %s is a LiteLLM chart value tandem does not support: %s" $key (get $hints $key)) -}}
{{- end -}}
{{- end -}}
{{- with .Values.proxyConfigMap -}}
{{- if or (and (hasKey . "create") (not .create)) .name .key -}}
{{- fail "tandem: proxyConfigMap is a LiteLLM chart value tandem does not support: tandem renders proxyConfig (or proxy_config) into its own ConfigMap" -}}
{{- end -}}
{{- end -}}
{{- $jobHints := dict
  "disableSchemaUpdate" "use migrationJob.enabled=false"
  "annotations" "use migrationJob.podAnnotations"
  "extraContainers" "the migration pod runs only `tandem migrate`"
  "extraInitContainers" "the migration pod runs only `tandem migrate`"
-}}
{{- range $key := keys $jobHints | sortAlpha -}}
{{- if and (hasKey $.Values.migrationJob $key) (include "tandem.inUse" (get $.Values.migrationJob $key)) -}}
{{- fail (printf "tandem: migrationJob.%s is a LiteLLM chart value tandem does not support: %s" $key (get $jobHints $key)) -}}
{{- end -}}
{{- end -}}
{{- if .Values.serviceMonitor.namespaceSelector -}}
{{- if include "tandem.inUse" .Values.serviceMonitor.namespaceSelector.matchNames -}}
{{- fail "tandem: serviceMonitor.namespaceSelector is a LiteLLM chart value tandem does not support: the ServiceMonitor selects the release's Service" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
Redis, with LiteLLM's (Bitnami's) value names where they fit: either an existing Redis or Valkey the
fleet shares (redis.host), or one small bundled server the chart deploys (redis.enabled, what
LiteLLM's chart does with its Redis subchart). Every other key in use is refused by name.
*/}}
{{- define "tandem.validateRedis" -}}
{{- $r := default dict .Values.redis -}}
{{- $auth := default dict $r.auth -}}
{{- $known := list "enabled" "architecture" "host" "port" "username" "tls" "auth" "flavor" "image" "maxmemory" "maxmemoryPolicy" "resources" "podSecurityContext" "securityContext" "networkPolicy" -}}
{{- range $key := keys $r | sortAlpha -}}
{{- if and (not (has $key $known)) (include "tandem.inUse" (get $r $key)) -}}
{{- fail (printf "tandem: redis.%s is not supported: tandem connects to an existing Redis (redis.host, redis.port, redis.username, redis.tls, redis.auth.existingSecret / existingSecretPasswordKey or redis.auth.password) or deploys one small bundled server (redis.enabled with redis.image, redis.resources, redis.maxmemory, redis.maxmemoryPolicy)" $key) -}}
{{- end -}}
{{- end -}}
{{- range $key := keys $auth | sortAlpha -}}
{{- if and (not (has $key (list "enabled" "existingSecret" "existingSecretPasswordKey" "password"))) (include "tandem.inUse" (get $auth $key)) -}}
{{- fail (printf "tandem: redis.auth.%s is not supported: give the password with redis.auth.existingSecret (and existingSecretPasswordKey) or redis.auth.password" $key) -}}
{{- end -}}
{{- end -}}
{{- if and $r.architecture (ne (toString $r.architecture) "standalone") -}}
{{- fail (printf "tandem: redis.architecture=%s is not supported: the bundled Redis is one standalone server (redis.architecture: standalone); for replicas and failover point redis.host at a managed Redis (ElastiCache, Memorystore, ...)" (toString $r.architecture)) -}}
{{- end -}}
{{- if and $auth.existingSecret $auth.password -}}
{{- fail "tandem: redis.auth.existingSecret and redis.auth.password are mutually exclusive: set only one" -}}
{{- end -}}
{{- if $r.enabled -}}
{{- if $r.host -}}
{{- fail "tandem: redis.enabled=true and redis.host are mutually exclusive: redis.enabled deploys a bundled Redis for the pods, redis.host points them at an existing one; set only one" -}}
{{- end -}}
{{- if $r.username -}}
{{- fail "tandem: redis.username applies to an existing Redis (redis.host): the bundled Redis (redis.enabled=true) has only its default user, with a password" -}}
{{- end -}}
{{- if $r.tls -}}
{{- fail "tandem: redis.tls applies to an existing Redis (redis.host): the bundled Redis (redis.enabled=true) serves plain TCP inside the namespace, behind a password and a NetworkPolicy" -}}
{{- end -}}
{{- if and (hasKey $auth "enabled") (not $auth.enabled) -}}
{{- fail "tandem: redis.auth.enabled=false is not supported with redis.enabled=true: the bundled Redis always requires a password (generated, or redis.auth.password / redis.auth.existingSecret)" -}}
{{- end -}}
{{- if hasPrefix "allkeys-" (toString $r.maxmemoryPolicy) -}}
{{- fail (printf "tandem: redis.maxmemoryPolicy=%s would let the bundled Redis evict the copy of unwritten spend (keys without an expiry): use volatile-lru (the default), another volatile-* policy or noeviction" $r.maxmemoryPolicy) -}}
{{- end -}}
{{- else -}}
{{- if and $r.username (not $r.host) -}}
{{- fail "tandem: redis.username needs redis.host (the existing Redis to connect to)" -}}
{{- end -}}
{{- if and (or $auth.existingSecret $auth.password) (not $r.host) -}}
{{- fail "tandem: redis.auth needs redis.host (an existing Redis to connect to) or redis.enabled=true (the bundled one)" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
The bundled Redis (redis.enabled): its objects' name, labels, image, and where its password lives.
*/}}
{{- define "tandem.redisFullname" -}}
{{- printf "%s-redis" (include "tandem.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "tandem.redisSelectorLabels" -}}
{{ include "tandem.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "tandem.redisLabels" -}}
helm.sh/chart: {{ include "tandem.chart" . }}
{{ include "tandem.redisSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tandem
{{- end }}

{{- define "tandem.redisImage" -}}
{{- $image := .Values.redis.image -}}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (toString $image.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret and key holding the bundled Redis's password (a YAML dict: name, key):
redis.auth.existingSecret, else the chart's <fullname>-redis (redis.auth.password, or generated once
and kept across upgrades, see redis-secret.yaml).
*/}}
{{- define "tandem.redisPasswordRef" -}}
{{- $auth := default dict .Values.redis.auth -}}
{{- if $auth.existingSecret -}}
name: {{ $auth.existingSecret | quote }}
key: {{ default "redis-password" $auth.existingSecretPasswordKey | quote }}
{{- else -}}
name: {{ include "tandem.redisFullname" . | quote }}
key: redis-password
{{- end -}}
{{- end }}

{{/*
What the bundled Redis's password comes from, hashed into the checksum/redis-secret annotation of
the Redis pod and the proxy pods: both roll when it changes. A generated password never changes
while its Secret lives, so "generated" stands for it (hashing the password itself would change on
the first install, where lookup finds no Secret yet).
*/}}
{{- define "tandem.redisPasswordSource" -}}
{{- $auth := default dict .Values.redis.auth -}}
{{- if $auth.existingSecret -}}
existingSecret {{ $auth.existingSecret }} {{ default "redis-password" $auth.existingSecretPasswordKey }}
{{- else if $auth.password -}}
password {{ $auth.password }}
{{- else -}}
generated
{{- end -}}
{{- end }}

{{/*
The proxy's Redis environment: the existing Redis (redis.host), the bundled one (redis.enabled),
or nothing. The password only ever through secretKeyRef.
*/}}
{{- define "tandem.redisEnv" -}}
{{- $r := default dict .Values.redis -}}
{{- $auth := default dict $r.auth -}}
{{- if $r.host }}
- name: REDIS_HOST
  value: {{ $r.host | quote }}
- name: REDIS_PORT
  value: {{ printf "%d" (int64 (default 6379 $r.port)) | quote }}
{{- with $r.username }}
- name: REDIS_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if $r.tls }}
- name: REDIS_SSL
  value: "true"
{{- end }}
{{- if $auth.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret | quote }}
      key: {{ default "redis-password" $auth.existingSecretPasswordKey | quote }}
{{- else if $auth.password }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tandem.secretName" . | quote }}
      key: REDIS_PASSWORD
{{- end }}
{{- else if $r.enabled }}
- name: REDIS_HOST
  value: {{ include "tandem.redisFullname" . | quote }}
- name: REDIS_PORT
  value: {{ printf "%d" (int64 (default 6379 $r.port)) | quote }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "tandem.redisPasswordRef" . | nindent 6 }}
{{- end }}
{{- end }}

{{/*
True ("true") when a reader is configured.
*/}}
{{- define "tandem.hasReader" -}}
{{- if include "tandem.readerSource" . }}true{{ end }}
{{- end }}

{{/*
Where the readers come from: "url" (db.readReplicaUrl) or "urls" (db.readReplicaUrls), both kept in
the chart-managed Secret; "key" (db.secret.readReplicaUrlKey) or "keys" (db.secret.readReplicaUrlKeys)
of the existing Secret; empty without a reader.
*/}}
{{- define "tandem.readerSource" -}}
{{- $db := .Values.db -}}
{{- if $db.readReplicaUrl }}url{{ else if $db.readReplicaUrls }}urls{{ else if $db.secret.readReplicaUrlKey }}key{{ else if $db.secret.readReplicaUrlKeys }}keys{{ end }}
{{- end }}

{{/*
Where the database Secrets are mounted with db.secret.mountAsFiles: the existing Secret
(db.secret.name) and the chart-managed one. Whole directories, never subPath, so kubelet's
refresh of a rotated Secret reaches the files.
*/}}
{{- define "tandem.dbSecretDir" -}}/var/run/secrets/tandem/db{{- end }}
{{- define "tandem.managedSecretDir" -}}/var/run/secrets/tandem/managed{{- end }}

{{/*
The keys of each Secret the proxy reads as files with db.secret.mountAsFiles (a YAML dict:
existing: [keys of db.secret.name], managed: [keys of the chart-managed Secret]).
*/}}
{{- define "tandem.dbFileKeys" -}}
{{- $db := .Values.db -}}
{{- $existing := list -}}
{{- $managed := list -}}
{{- $writer := include "tandem.writerSource" . -}}
{{- if eq $writer "url" }}{{ $managed = append $managed "DATABASE_URL" }}{{ end -}}
{{- if eq $writer "urlKey" }}{{ $existing = append $existing $db.secret.urlKey }}{{ end -}}
{{- if and (eq $writer "parts") (not $db.iamAuth) }}{{ $existing = append $existing $db.secret.passwordKey }}{{ end -}}
{{- $reader := include "tandem.readerSource" . -}}
{{- if or (eq $reader "url") (eq $reader "urls") }}{{ $managed = append $managed "DATABASE_URL_READ_REPLICA" }}{{ end -}}
{{- if eq $reader "key" }}{{ $existing = append $existing $db.secret.readReplicaUrlKey }}{{ end -}}
{{- if eq $reader "keys" }}{{ $existing = concat $existing $db.secret.readReplicaUrlKeys }}{{ end -}}
{{- toYaml (dict "existing" (uniq $existing) "managed" $managed) }}
{{- end }}

{{/*
Volumes and mounts for db.secret.mountAsFiles (rendered only with it).
*/}}
{{- define "tandem.dbFileVolumes" -}}
{{- $keys := include "tandem.dbFileKeys" . | fromYaml -}}
{{- with $keys.existing }}
- name: db-secret
  secret:
    secretName: {{ $.Values.db.secret.name | quote }}
    items:
      {{- range . }}
      - key: {{ . | quote }}
        path: {{ . | quote }}
      {{- end }}
{{- end }}
{{- with $keys.managed }}
- name: db-managed-secret
  secret:
    secretName: {{ include "tandem.secretName" $ | quote }}
    items:
      {{- range . }}
      - key: {{ . | quote }}
        path: {{ . | quote }}
      {{- end }}
{{- end }}
{{- end }}

{{- define "tandem.dbFileMounts" -}}
{{- $keys := include "tandem.dbFileKeys" . | fromYaml -}}
{{- if $keys.existing }}
- name: db-secret
  mountPath: {{ include "tandem.dbSecretDir" . }}
  readOnly: true
{{- end }}
{{- if $keys.managed }}
- name: db-managed-secret
  mountPath: {{ include "tandem.managedSecretDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
Data of the chart-managed Secret (base64). Shared by secret.yaml and the checksum/secret
annotation, so the checksum changes exactly when a stored value does.
*/}}
{{- define "tandem.secretData" -}}
{{- if .Values.db.url }}
DATABASE_URL: {{ .Values.db.url | b64enc | quote }}
{{- end }}
{{- with .Values.db.readReplicaUrl }}
DATABASE_URL_READ_REPLICA: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.db.readReplicaUrls }}
DATABASE_URL_READ_REPLICA: {{ join "," . | b64enc | quote }}
{{- end }}
{{- with include "tandem.masterKeyValue" . }}
MASTER_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- /* The bundled Redis keeps its password in its own Secret (redis-secret.yaml). */}}
{{- if not (default dict .Values.redis).enabled }}
{{- with (default dict (default dict .Values.redis).auth).password }}
REDIS_PASSWORD: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Contents of the proxy config file; shared by configmap.yaml and the checksum/config annotation.
*/}}
{{- define "tandem.proxyConfig" -}}
{{- toYaml (default (default dict .Values.proxyConfig) .Values.proxy_config) }}
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
{{- $files := .files -}}
{{- $dir := include "tandem.dbSecretDir" $ctx -}}
{{- $managedDir := include "tandem.managedSecretDir" $ctx -}}
{{- $source := include "tandem.writerSource" $ctx -}}
{{- if eq $source "parts" }}
- name: DATABASE_HOST
{{- if $db.secret.endpointKey }}
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.endpointKey | quote }}
{{- else }}
  value: {{ $db.endpoint | quote }}
{{- end }}
- name: DATABASE_PORT
  value: {{ printf "%d" (int64 $db.port) | quote }}
- name: DATABASE_NAME
  value: {{ $db.database | quote }}
- name: DATABASE_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.usernameKey | quote }}
{{- if and (not $db.iamAuth) $files }}
- name: DATABASE_PASSWORD_FILE
  value: {{ printf "%s/%s" $dir $db.secret.passwordKey | quote }}
{{- else if not $db.iamAuth }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.passwordKey | quote }}
{{- end }}
{{- with $db.params }}
{{- $pairs := list }}
{{- range $k := keys . | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%s" (urlquery $k) (urlquery (toString (get $db.params $k)))) }}
{{- end }}
- name: DATABASE_PARAMS
  value: {{ join "&" $pairs | quote }}
{{- end }}
{{- else if and (eq $source "urlKey") $files }}
- name: DATABASE_URL_FILE
  value: {{ printf "%s/%s" $dir $db.secret.urlKey | quote }}
{{- else if eq $source "urlKey" }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.urlKey | quote }}
{{- else if $files }}
- name: DATABASE_URL_FILE
  value: {{ printf "%s/DATABASE_URL" $managedDir | quote }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName | quote }}
      key: DATABASE_URL
{{- end }}
{{- if .reader }}
{{- $reader := include "tandem.readerSource" $ctx }}
{{- if and (or (eq $reader "url") (eq $reader "urls")) $files }}
- name: DATABASE_URL_READ_REPLICA_FILE
  value: {{ printf "%s/DATABASE_URL_READ_REPLICA" $managedDir | quote }}
{{- else if or (eq $reader "url") (eq $reader "urls") }}
- name: DATABASE_URL_READ_REPLICA
  valueFrom:
    secretKeyRef:
      name: {{ include "tandem.secretName" $ctx | quote }}
      key: DATABASE_URL_READ_REPLICA
{{- else if and (eq $reader "key") $files }}
- name: DATABASE_URL_READ_REPLICA_FILE
  value: {{ printf "%s/%s" $dir $db.secret.readReplicaUrlKey | quote }}
{{- else if eq $reader "key" }}
- name: DATABASE_URL_READ_REPLICA
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $db.secret.readReplicaUrlKey | quote }}
{{- else if and (eq $reader "keys") $files }}
{{- $paths := list }}
{{- range $db.secret.readReplicaUrlKeys }}{{ $paths = append $paths (printf "%s/%s" $dir .) }}{{ end }}
- name: DATABASE_URL_READ_REPLICA_FILE
  value: {{ join "," $paths | quote }}
{{- else if eq $reader "keys" }}
{{- /* One variable per key, joined by Kubernetes' $(VAR) expansion: the pod spec names keys, never URLs. */}}
{{- $refs := list }}
{{- range $i, $key := $db.secret.readReplicaUrlKeys }}
{{- $name := printf "TANDEM_READ_REPLICA_URL_%d" (add1 $i) }}
{{- $refs = append $refs (printf "$(%s)" $name) }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $db.secret.name | quote }}
      key: {{ $key | quote }}
{{- end }}
- name: DATABASE_URL_READ_REPLICA
  value: {{ join "," $refs | quote }}
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
{{- else if $db.readReplicaUrls -}}
{{ len $db.readReplicaUrls }} readers from plain URLs (db.readReplicaUrls, kept in Secret {{ include "tandem.secretName" . }})
{{- else if $db.secret.readReplicaUrlKey -}}
reader from existing Secret ({{ $db.secret.name }}, key {{ $db.secret.readReplicaUrlKey }})
{{- else if $db.secret.readReplicaUrlKeys -}}
{{ len $db.secret.readReplicaUrlKeys }} readers from existing Secret ({{ $db.secret.name }}, keys {{ join ", " $db.secret.readReplicaUrlKeys }})
{{- else -}}
single database (no read replica: every query goes to the writer)
{{- end -}}
{{- end }}

{{/*
The `tandem migrate` container, shared by the migration Job and the initContainer mode.
Parameters (dict): ctx (the root context), secretName (the Secret holding DATABASE_URL in db.url mode).
It gets the writer connection only: DATABASE_URL_READ_REPLICA is never rendered here.
*/}}
{{- define "tandem.migrateContainer" -}}
{{- $ctx := .ctx -}}
- name: migrate
  image: {{ include "tandem.image" $ctx | quote }}
  imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
  args: ["migrate"]
  env:
    {{- include "tandem.dbEnv" (dict "ctx" $ctx "reader" false "secretName" .secretName) | trim | nindent 4 }}
    - name: LOG_LEVEL
      value: {{ include "tandem.logLevel" $ctx | quote }}
    {{- with $ctx.Values.migrationJob.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $ctx.Values.migrationJob.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $ctx.Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- with $ctx.Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
How the instances behind the reader address are found (db.readerDiscovery) and read-your-writes on
demand (db.readYourWritesCheckMs): the DATABASE_READ_REPLICA_* variables. Nothing without a reader.
*/}}
{{- define "tandem.readerDiscoveryEnv" -}}
{{- $d := .Values.db.readerDiscovery -}}
{{- if include "tandem.hasReader" . }}
{{- if ne $d.mode "none" }}
- name: DATABASE_READ_REPLICA_DISCOVERY
  value: {{ $d.mode | quote }}
{{- end }}
{{- if eq $d.mode "kubernetes" }}
{{- with $d.service }}
- name: DATABASE_READ_REPLICA_SERVICE
  value: {{ . | quote }}
{{- end }}
- name: DATABASE_READ_REPLICA_NAMESPACE
  value: {{ include "tandem.readerDiscoveryNamespace" . | quote }}
{{- with $d.zone }}
- name: DATABASE_READ_REPLICA_ZONE
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if and (eq $d.mode "aurora") $d.instanceHostPattern }}
- name: DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN
  value: {{ $d.instanceHostPattern | quote }}
{{- end }}
{{- if and (eq $d.mode "dns") $d.dnsServers }}
- name: DATABASE_READ_REPLICA_DNS_SERVERS
  value: {{ join "," $d.dnsServers | quote }}
{{- end }}
{{- if not (kindIs "invalid" .Values.db.readYourWritesCheckMs) }}
- name: DATABASE_READ_YOUR_WRITES_CHECK_MS
  value: {{ printf "%d" (int64 .Values.db.readYourWritesCheckMs) | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespace of the replicas' Service: db.readerDiscovery.namespace, else the release's. */}}
{{- define "tandem.readerDiscoveryNamespace" -}}
{{- .Values.db.readerDiscovery.namespace | default .Release.Namespace -}}
{{- end }}
