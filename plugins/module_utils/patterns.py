# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The formats the collection's inputs are checked against, one definition each.

Where two checks accept different forms of the same kind of value (URLs, durations, Service hosts), each
form has its own name, after what it matches. A pattern bounds a length only where its comment says so.
"""
from __future__ import annotations

import re

# -- Kubernetes names --------------------------------------------
# Object, namespace and release names.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Service names: a DNS-1123 label that starts with a letter.
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# Dot-separated DNS-1123 labels: auth-api.auth.svc.cluster.local.
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# <service>.<namespace>, optionally followed by .svc and a cluster domain.
SERVICE_HOST = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.svc(\.[a-z0-9.-]+)?)?$")
# Label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
# Label value: empty, or at most 63 characters.
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# The name part of a label key, or a non-empty label value, of any length.
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# Resource quantity (k8s.io/apimachinery/pkg/api/resource): a number, then one suffix, no space.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?\d+)?$")
# Service port name (IANA_SVC_NAME): at most 15 of a-z, 0-9, '-', with a letter, no leading, trailing or double '-'.
SERVICE_PORT_NAME = re.compile(r"^(?!-)(?!.*--)(?=.*[a-z])[a-z0-9-]{1,15}(?<!-)$")
# A Node's spec.providerID on AWS.
AWS_PROVIDER_ID = re.compile(r"^aws:///[a-z0-9-]+/i-[0-9a-f]+$")

# -- hosts and addresses -----------------------------------------
# A host name, '*', or '*.' and a host name.
HOST_OR_WILDCARD = re.compile(r"^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$")
CIDR = re.compile(r"^[0-9a-fA-F:.]+/\d{1,3}$")

# -- URLs and paths ----------------------------------------------
# Any http(s) URL without white space.
HTTP_URL = re.compile(r"^https?://\S+$")
# An http(s) URL whose host is lowercase: group 1 the host, group 3 the port, group 4 the path.
HTTP_URL_PARTS = re.compile(r"^https?://([a-z0-9.-]+)(:(\d+))?(/\S*)?$")
CHART_REPO_URL = re.compile(r"^(https?|oci)://\S+$")
# What Argo CD clones: a URL, or scp-like user@host:path.
GIT_URL = re.compile(r"^((https?|ssh|git)://\S+|[\w.-]+@[\w.-]+:\S+)$")
# A request path from '/'; a trailing '*' (the only one) makes it a prefix.
REQUEST_PATH = re.compile(r"^/[^\s*]*(\*)?$")

# -- durations ---------------------------------------------------
# Go's time.ParseDuration, units combined: 5m, 90s, 1h30m.
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")
# One number, decimals allowed, and one unit: 500ms, 2s, 1.5m, 1h.
DECIMAL_DURATION = re.compile(r"^\d+(\.\d+)?(ms|s|m|h)$")
# One whole number and one unit up to minutes: 500ms, 15s, 1m.
WHOLE_DURATION = re.compile(r"^\d+(ms|s|m)$")

# -- HTTP --------------------------------------------------------
# RFC 6265 cookie name (an RFC 7230 token).
COOKIE_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# A header name as Envoy keys it: a lowercase token.
HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# An ALB health check's success codes: 200, 200-299, 200,302.
SUCCESS_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
# A tracing custom tag name.
TAG_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")

# -- AWS, Helm ---------------------------------------------------
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[-a-z]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
# At most 63 of a-z, 0-9, '-', '.', alphanumeric at both ends.
ALB_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")
AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+].*)?$")
