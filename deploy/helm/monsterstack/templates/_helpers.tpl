{{/*
The tag of the monsterstack images: image.tag, or the chart's appVersion. `latest` is refused.
*/}}
{{- define "monsterstack.tag" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag=latest is refused: pin the tag you pushed (a rollout is a change of the manifests)" -}}
{{- end -}}
{{- if not (regexMatch "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" $tag) -}}
{{- fail (printf "image.tag %q is not an image tag" $tag) -}}
{{- end -}}
{{- $tag -}}
{{- end -}}

{{/*
One service's image: (dict "root" $ "service" "frontend") -> [<registry>/]monsterstack-frontend:<tag>
*/}}
{{- define "monsterstack.image" -}}
{{- $name := printf "monsterstack-%s" .service -}}
{{- with .root.Values.image.registry -}}
{{- $name = printf "%s/%s" (trimSuffix "/" .) $name -}}
{{- end -}}
{{- printf "%s:%s" $name (include "monsterstack.tag" .root) -}}
{{- end -}}

{{- define "monsterstack.redisImage" -}}
{{- $image := .Values.redis.image -}}
{{- if eq (toString $image.tag) "latest" -}}
{{- fail "redis.image.tag=latest is refused: pin a release (7.4-alpine)" -}}
{{- end -}}
{{- printf "%s:%s" $image.repository (toString $image.tag) -}}
{{- end -}}

{{/*
The labels of every object (the kit's `labels:` transformers: part-of, managed-by, the
instance (the release: the kit's overlays say monsterstack-prod/-dev), the version), and
Helm's own.
*/}}
{{- define "monsterstack.labels" -}}
app.kubernetes.io/part-of: monsterstack
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
version: {{ include "monsterstack.tag" . | quote }}
app.kubernetes.io/version: {{ include "monsterstack.tag" . | quote }}
{{- end -}}

{{/* The labels the kit's transformers put on pod templates too. */}}
{{- define "monsterstack.templateLabels" -}}
app.kubernetes.io/part-of: monsterstack
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
version: {{ include "monsterstack.tag" . | quote }}
app.kubernetes.io/version: {{ include "monsterstack.tag" . | quote }}
{{- end -}}

{{/*
A generated ConfigMap's name, as kustomize's configMapGenerator makes it: the name, a dash,
and 10 characters of the SHA-256 of {"data":...,"kind":"ConfigMap","name":""} (kustomize's
hasher; its name lookup finds nothing, so the name hashes as ""), with 0 1 3 a e turned
into g h k m t. The same content gives the same name as the kit; a change rolls the pods.
(list "name" $data)
*/}}
{{- define "monsterstack.hashedName" -}}
{{- $name := index . 0 -}}
{{- $hash := dict "data" (index . 1) "kind" "ConfigMap" "name" "" | toJson | sha256sum | trunc 10 -}}
{{- $hash = $hash | replace "0" "g" | replace "1" "h" | replace "3" "k" | replace "a" "m" | replace "e" "t" -}}
{{- printf "%s-%s" $name $hash -}}
{{- end -}}

{{/* A values map as ConfigMap data: every value a string. */}}
{{- define "monsterstack.stringMap" -}}
{{- $out := dict -}}
{{- range $key, $value := . -}}
{{- $_ := set $out $key (toString $value) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{- define "monsterstack.data.common" -}}
{{- include "monsterstack.stringMap" .Values.config.common -}}
{{- end -}}

{{- define "monsterstack.data.frontend" -}}
{{- include "monsterstack.stringMap" .Values.config.frontend -}}
{{- end -}}

{{- define "monsterstack.data.redis" -}}
{{- dict "redis.conf" (.Files.Get "files/redis.conf") | toJson -}}
{{- end -}}

{{- define "monsterstack.data.dashboard" -}}
{{- dict "monsterstack.json" (.Files.Get "files/monsterstack.json") | toJson -}}
{{- end -}}

{{- define "monsterstack.configMap.common" -}}
{{- include "monsterstack.hashedName" (list "monsterstack-common" (include "monsterstack.data.common" . | fromJson)) -}}
{{- end -}}

{{- define "monsterstack.configMap.frontend" -}}
{{- include "monsterstack.hashedName" (list "frontend-config" (include "monsterstack.data.frontend" . | fromJson)) -}}
{{- end -}}

{{- define "monsterstack.configMap.redis" -}}
{{- include "monsterstack.hashedName" (list "redis-config" (include "monsterstack.data.redis" . | fromJson)) -}}
{{- end -}}

{{- define "monsterstack.configMap.dashboard" -}}
{{- include "monsterstack.hashedName" (list "grafana-dashboard-monsterstack" (include "monsterstack.data.dashboard" . | fromJson)) -}}
{{- end -}}

{{/* The security contexts of the kit's two Python services (Restricted, and more). */}}
{{- define "monsterstack.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "monsterstack.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* A Deployment's annotations: deploymentAnnotations and (dict "root" $ "extra" {...}). */}}
{{- define "monsterstack.deploymentAnnotations" -}}
{{- merge (dict) (.extra | default dict) (.root.Values.deploymentAnnotations | default dict) | toYaml -}}
{{- end -}}
