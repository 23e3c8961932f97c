{{/*
The labels of every object: the install contract's app.kubernetes.io/name and component (the selectors use
only these two), Helm's usual ones, then extra and commonLabels, which cannot override them. Call with
(dict "ctx" $ "component" "operator" "extra" $labels).
*/}}
{{- define "ferrolb.labels" -}}
{{- $labels := dict
  "app.kubernetes.io/name" "ferrolb"
  "app.kubernetes.io/instance" .ctx.Release.Name
  "app.kubernetes.io/managed-by" .ctx.Release.Service
  "app.kubernetes.io/version" .ctx.Chart.AppVersion
  "helm.sh/chart" (printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version)
-}}
{{- with .component }}{{ $_ := set $labels "app.kubernetes.io/component" . }}{{ end -}}
{{- toYaml (merge $labels (.extra | default dict) (.ctx.Values.commonLabels | default dict)) -}}
{{- end }}

{{- define "ferrolb.selectorLabels" -}}
app.kubernetes.io/name: ferrolb
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* metadata.annotations from commonAnnotations, when there are any, indented for a top-level object. */}}
{{- define "ferrolb.annotations" -}}
{{- with .Values.commonAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end }}

{{/*
The image: image.repository, with its registry replaced by global.imageRegistry (Bitnami's value) when set, and
image.tag or the chart's appVersion.
*/}}
{{- define "ferrolb.image" -}}
{{- $repo := .Values.image.repository -}}
{{- with (.Values.global | default dict).imageRegistry -}}
{{- $parts := splitn "/" 2 $repo -}}
{{- if and $parts._1 (or (contains "." $parts._0) (contains ":" $parts._0) (eq $parts._0 "localhost")) -}}
{{- $repo = $parts._1 -}}
{{- end -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" .) $repo -}}
{{- end -}}
{{- printf "%s:%s" $repo (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end }}

{{/* imagePullSecrets and global.imagePullSecrets (names or {name: ...}), as a pod spec field. */}}
{{- define "ferrolb.imagePullSecrets" -}}
{{- $secrets := list -}}
{{- range concat ((.Values.global | default dict).imagePullSecrets | default list) .Values.imagePullSecrets -}}
{{- if kindIs "string" . -}}
{{- $secrets = append $secrets (dict "name" .) -}}
{{- else -}}
{{- $secrets = append $secrets . -}}
{{- end -}}
{{- end -}}
{{- with $secrets }}
imagePullSecrets:
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}

{{/* The pod scheduling fields of a component's values (operator, webhookServer). */}}
{{- define "ferrolb.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
tolerations:
- key: node-role.kubernetes.io/control-plane
  operator: Exists
  effect: NoSchedule
{{- with .tolerations }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
The validating webhooks' failurePolicy: webhook.failurePolicy, or MetalLB's chart value
crds.validationFailurePolicy, or Fail.
*/}}
{{- define "ferrolb.failurePolicy" -}}
{{- .Values.webhook.failurePolicy | default ((.Values.crds | default dict).validationFailurePolicy) | default "Fail" -}}
{{- end }}
