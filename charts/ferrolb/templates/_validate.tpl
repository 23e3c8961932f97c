{{/*
Refusals of values that cannot work, each naming the value and saying what to do instead. The schema
(values.schema.json) checks types and names; these are the rules it cannot express.
*/}}
{{- define "ferrolb.validate" -}}
{{- if ne .Release.Namespace "metallb-system" -}}
{{- fail (printf "namespace %q: ferrolb installs into metallb-system only (helm install -n metallb-system): the BGPPeer CRD's conversion webhook (crds/) calls metallb-system/metallb-webhook-service" .Release.Namespace) -}}
{{- end -}}
{{- $v := .Values -}}
{{- if $v.existingConfigMap -}}
{{- fail (printf "existingConfigMap %q: ferrolb reads metallb.io resources, not MetalLB's legacy ConfigMap: convert it with configmaptocrs (docs/migration.md) and put the result into ipAddressPools, l2Advertisements, bgpAdvertisements, bgpPeers, bfdProfiles and communities, or apply it" $v.existingConfigMap) -}}
{{- end -}}
{{- if $v.configInline -}}
{{- fail "configInline: ferrolb reads metallb.io resources, not MetalLB's legacy configuration: convert it with configmaptocrs values.yaml (docs/migration.md) and put the result into ipAddressPools, l2Advertisements, bgpAdvertisements, bgpPeers, bfdProfiles and communities" -}}
{{- end -}}
{{- range $key := list "nameOverride" "fullnameOverride" -}}
{{- with (get $v $key) -}}
{{- fail (printf "%s %q: ferrolb's object names are fixed (ferrolb-operator, ferrolb-webhook-server, metallb-webhook-service, metallb-webhook-configuration), as every install method shares them; remove %s" $key . $key) -}}
{{- end -}}
{{- end -}}
{{- if and $v.crds (hasKey $v.crds "enabled") (not $v.crds.enabled) -}}
{{- fail "crds.enabled=false: the CRDs are in the chart's crds/ directory, which Helm installs before anything else; skip them with helm install --skip-crds (Flux: spec.install.crds: Skip)" -}}
{{- end -}}
{{- if and $v.frrk8s $v.frrk8s.enabled -}}
{{- fail "frrk8s.enabled=true: ferrolb embeds its own BGP speaker (bgpBackend native) and runs no frr-k8s; remove frrk8s" -}}
{{- end -}}
{{- range $component := list "controller" "speaker" -}}
{{- $c := get $v $component -}}
{{- if and (hasKey $c "enabled") (not $c.enabled) -}}
{{- fail (printf "%s.enabled=false: ferrolb always deploys the controller and the speakers of a MetalLB resource; remove %s.enabled" $component $component) -}}
{{- end -}}
{{- if $c.image -}}
{{- fail (printf "%s.image: ferrolb runs every component from one image; set image.repository and image.tag instead" $component) -}}
{{- end -}}
{{- if and $c.frr $c.frr.enabled -}}
{{- fail (printf "%s.frr.enabled=true: ferrolb embeds its own BGP speaker and runs no FRR container; remove %s.frr" $component $component) -}}
{{- end -}}
{{- end -}}
{{- range $path, $p := dict "prometheus" $v.prometheus "controller.prometheus" $v.controller.prometheus "speaker.prometheus" $v.speaker.prometheus -}}
{{- range $kind := list "podMonitor" "prometheusRule" -}}
{{- if and $p (get $p $kind) (get (get $p $kind) "enabled") -}}
{{- fail (printf "%s.%s.enabled=true: ferrolb creates no %s; the operator creates the ServiceMonitors controller-monitor and speaker-monitor when their CRD exists" $path $kind $kind) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $v.metallb.create -}}
{{- range $path := keys (include "ferrolb.compatSpec" . | fromYaml) | sortAlpha -}}
{{- fail (printf "%s: it sets the MetalLB resource's spec, which this release does not create: set metallb.create=true, or set the field in your own MetalLB resource" (include "ferrolb.compatSource" $path)) -}}
{{- end -}}
{{- end -}}
{{- range $kind, $items := dict "ipAddressPools" $v.ipAddressPools "l2Advertisements" $v.l2Advertisements "bgpAdvertisements" $v.bgpAdvertisements "bgpPeers" $v.bgpPeers "bfdProfiles" $v.bfdProfiles "communities" $v.communities -}}
{{- $seen := dict -}}
{{- range $i, $item := $items -}}
{{- if hasKey $seen $item.name -}}
{{- fail (printf "%s[%d].name %q: the name is already used by %s[%d]" $kind $i $item.name $kind (get $seen $item.name)) -}}
{{- end -}}
{{- $_ := set $seen $item.name $i -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/*
The MetalLB chart values that become fields of the MetalLB resource's spec, as a YAML mapping from the spec
field's path ("speakerConfig.resources") to its value; only the values that are set.
*/}}
{{- define "ferrolb.compatSpec" -}}
{{- $v := .Values -}}
{{- $out := dict -}}
{{- with $v.loadBalancerClass }}{{ $_ := set $out "loadBalancerClass" . }}{{ end -}}
{{- $levels := list -}}
{{- with $v.controller.logLevel }}{{ $levels = append $levels . }}{{ end -}}
{{- with $v.speaker.logLevel }}{{ $levels = append $levels . }}{{ end -}}
{{- if gt (len (uniq $levels)) 1 -}}
{{- fail (printf "controller.logLevel %q and speaker.logLevel %q: ferrolb has one logLevel for both (the MetalLB resource's spec.logLevel); set the same value, or only one" $v.controller.logLevel $v.speaker.logLevel) -}}
{{- end -}}
{{- with $levels }}{{ $_ := set $out "logLevel" (first .) }}{{ end -}}
{{- if $v.speaker.ignoreExcludeLB }}{{ $_ := set $out "ignoreExcludeLB" true }}{{ end -}}
{{- with $v.speaker.nodeSelector }}{{ $_ := set $out "nodeSelector" . }}{{ end -}}
{{- with $v.speaker.tolerations }}{{ $_ := set $out "speakerTolerations" . }}{{ end -}}
{{- with $v.controller.nodeSelector }}{{ $_ := set $out "controllerNodeSelector" . }}{{ end -}}
{{- with $v.controller.tolerations }}{{ $_ := set $out "controllerTolerations" . }}{{ end -}}
{{- range $component := list "controller" "speaker" -}}
{{- $c := get $v $component -}}
{{- range $key, $field := dict "priorityClassName" "priorityClassName" "runtimeClassName" "runtimeClassName" "affinity" "affinity" "resources" "resources" "podAnnotations" "annotations" -}}
{{- with get $c $key }}{{ $_ := set $out (printf "%sConfig.%s" $component $field) . }}{{ end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* The MetalLB chart value a spec field path of ferrolb.compatSpec comes from. */}}
{{- define "ferrolb.compatSource" -}}
{{- $sources := dict "loadBalancerClass" "loadBalancerClass" "logLevel" "controller.logLevel/speaker.logLevel" "ignoreExcludeLB" "speaker.ignoreExcludeLB" "nodeSelector" "speaker.nodeSelector" "speakerTolerations" "speaker.tolerations" "controllerNodeSelector" "controller.nodeSelector" "controllerTolerations" "controller.tolerations" -}}
{{- if hasKey $sources . -}}
{{- get $sources . -}}
{{- else -}}
{{- $parts := splitList "." . -}}
{{- $component := trimSuffix "Config" (first $parts) -}}
{{- $field := last $parts -}}
{{- printf "%s.%s" $component (ternary "podAnnotations" $field (eq $field "annotations")) -}}
{{- end -}}
{{- end }}

{{/*
The MetalLB resource's spec: metallb.spec with the MetalLB chart values of ferrolb.compatSpec added. A field set
both ways is refused rather than silently resolved.
*/}}
{{- define "ferrolb.metallbSpec" -}}
{{- $spec := deepCopy (.Values.metallb.spec | default dict) -}}
{{- $compat := include "ferrolb.compatSpec" . | fromYaml -}}
{{- range $path := keys $compat | sortAlpha -}}
{{- $value := get $compat $path -}}
{{- $parts := splitList "." $path -}}
{{- $parent := $spec -}}
{{- if eq (len $parts) 2 -}}
{{- if not (hasKey $spec (first $parts)) -}}
{{- $_ := set $spec (first $parts) dict -}}
{{- end -}}
{{- $parent = get $spec (first $parts) -}}
{{- end -}}
{{- if hasKey $parent (last $parts) -}}
{{- fail (printf "%s and metallb.spec.%s both set the MetalLB resource's spec.%s: set only one" (include "ferrolb.compatSource" $path) $path $path) -}}
{{- end -}}
{{- $_ := set $parent (last $parts) $value -}}
{{- end -}}
{{- toYaml $spec -}}
{{- end }}
