{{- define "istiod.name" -}}
istiod{{ if .Values.revision }}-{{ .Values.revision }}{{ end }}
{{- end }}
{{- define "istiod.image" -}}
{{- if contains "/" .Values.pilot.image -}}
{{ .Values.pilot.image }}
{{- else -}}
{{ .Values.pilot.hub | default .Values.global.hub }}/{{ .Values.pilot.image }}:{{ .Values.pilot.tag | default .Values.global.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}
