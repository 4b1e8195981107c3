# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One validation pass over everything a run will use, before the first write.

`validate(...)` checks, for the phases a run selects: the mesh spec (`mesh_spec.build_spec`), every phase
role's arguments against its `meta/argument_specs.yml`, the inventory groups and hosts the phases act on
(and the node profiles of the hosts to join), and the rules Kubernetes and Istio apply to what the roles
generate from the role variables (quantities, labels, names, Service ports, HPA bounds, the supported Istio
versions). It returns every error at once, each ``<variable path>: <problem and what is allowed>``.
Pure: the caller (the eco2.mesh.mesh_validate action) gathers the variables, the role files and the inventory.
"""
from __future__ import annotations

import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.eco2.mesh.plugins.module_utils import istio_versions, node_profile
from ansible_collections.eco2.mesh.plugins.module_utils.mesh_spec import (
    PROTOCOLS, SPEC_VARIABLES, MeshSpecError, build_spec)
from ansible_collections.eco2.mesh.plugins.module_utils.schema import length_problem
from ansible_collections.eco2.mesh.plugins.module_utils.patterns import (
    AWS_PROVIDER_ID, AWS_REGION, CHART_REPO_URL, CHART_VERSION, DNS1123_LABEL, GIT_URL, GO_DURATION, HTTP_URL, QUANTITY,
    SERVICE_PORT_NAME)
from ansible_collections.eco2.mesh.plugins.module_utils.sequences import unique_in_order

# Phase -> the tags of playbooks/istio.yml that select it (None: the phase is not in that playbook), the roles it runs.
PHASE_TAGS_AND_ROLES = {
    "node_join": {"tags": ("node_join",), "roles": ("node_join",)},
    "istio_base": {"tags": ("istio_base", "istio"), "roles": ("istio_release", "istio_base")},
    "istiod": {"tags": ("istiod", "istio"), "roles": ("istio_release", "istiod")},
    "istio_gateway": {"tags": ("istio_gateway", "istio"), "roles": ("istio_release", "istio_gateway")},
    "network_policies": {"tags": ("network_policies",), "roles": ("mesh_network_policies",)},
    "routing": {"tags": ("routing",), "roles": ("mesh_routing",)},
    "verify_aws": {"tags": ("verify_aws",), "roles": ("verify_aws",)},
    "injection": {"tags": ("injection",), "roles": ("sidecar_injection",)},
    "mtls_telemetry": {"tags": ("mtls_telemetry",), "roles": ("mesh_mtls_telemetry",)},
    "jaeger": {"tags": ("mesh_ui", "jaeger"), "roles": ("istio_release", "jaeger")},
    "kiali": {"tags": ("mesh_ui", "kiali"), "roles": ("istio_release", "kiali")},
    "topology": {"tags": ("topology",), "roles": ("mesh_topology",)},
    "gitops": {"tags": None, "roles": ("gitops_export",)},
}
PHASE_TAGS = {phase: row["tags"] for phase, row in PHASE_TAGS_AND_ROLES.items() if row["tags"] is not None}
PHASE_ROLES = {phase: row["roles"] for phase, row in PHASE_TAGS_AND_ROLES.items()}
PHASES = tuple(PHASE_TAGS_AND_ROLES)
# Phases that read the whole mesh spec.
SPEC_PHASES = ("network_policies", "routing", "verify_aws", "injection", "mtls_telemetry", "topology")
# Phases that read parts of it (istiod: the mesh_auth and mesh_telemetry providers; the gateway: mesh_gateway_selector):
# a role run alone (a Molecule scenario) needs no zone, domains or certificate; whatever is set is still checked.
PARTIAL_SPEC_PHASES = ("istiod", "istio_gateway")
# Opt-in phases (mesh_ui_enabled): their roles' arguments are checked only when they run.
UI_PHASES = ("jaeger", "kiali")
# Release roles: variable prefix of each.
ISTIO_ROLES = {"istio_base": "istio_base", "istiod": "istiod", "istio_gateway": "istio_gateway"}
# Variables read outside any role's argument spec.
EXTRA_VARIABLES = ("mesh_join_hosts", "mesh_render_dir", "istio_allow_unsupported_version", "verify_aws_enabled",
                   "mesh_gitops_dir", "inventory_environment", "aws_region")
HOST_VARIABLES = ("node_profile_labels", "node_profile_taints", "node_provider_id", "aws_availability_zone",
                  "aws_instance_id")
DEFAULT_JOIN_GROUP = "ingress_gateway"

QUANTITY_ALLOWED = "a Kubernetes quantity like 100m, 0.5, 512Mi or 1Gi (suffixes m, k, M, G, Ki, Mi, Gi, ...; no space)"
RESOURCE_SECTIONS = ("requests", "limits")
NODE_PORTS = (30000, 32767)
HELM_RELEASE_MAX = 53
# Readers of ArgumentSpecValidator's messages and of role defaults, not input formats (those are in patterns.py).
_ARGUMENT = re.compile(r"^argument '([^']+)' ")
_SIMPLE_REF = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")


def selected_phases(run_tags=None, skip_tags=None, phases=None):
    """The phases of playbooks/istio.yml that `--tags` / `--skip-tags` leave on."""
    phases = PHASE_TAGS if phases is None else phases
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    out = []
    for phase, tags in phases.items():
        on = "all" in run or bool(run & set(tags))
        if on and not skip & set(tags):
            out.append(phase)
    return out


def roles_of(phases):
    return unique_in_order(role for phase in phases for role in PHASE_ROLES[phase])


def variable_names(specs):
    """Every variable the pass reads: the spec's, the roles' options and the playbook's own."""
    names = set(SPEC_VARIABLES) | set(EXTRA_VARIABLES)
    for options in specs.values():
        names |= set(options)
    return names


class _Values:
    """What a variable resolves to: the user's value, else the role default (simple `{{ other }}` followed)."""

    def __init__(self, variables, defaults, raw=None):
        self.variables = variables
        self.defaults = defaults
        # As written: a spec's str conversion would hide that YAML read 1.10 as the float 1.1.
        self.raw = dict(defaults, **(raw if raw is not None else variables))

    def set_by_user(self, name):
        return name in self.variables

    def get(self, name, depth=0):
        if name in self.variables:
            return self.variables[name]
        value = self.defaults.get(name)
        if isinstance(value, str) and "{{" in value:
            ref = _SIMPLE_REF.match(value)
            return self.get(ref.group(1), depth + 1) if ref and depth < 5 else None
        return value

    def origin(self, name):
        """The variable the user sets to change `name` (the shared istio_* when the role one is not set)."""
        if name in self.variables:
            return name
        ref = _SIMPLE_REF.match(self.defaults.get(name) or "") if isinstance(self.defaults.get(name), str) else None
        return self.origin(ref.group(1)) if ref else name


def validate(phases, variables, specs, defaults, groups, hostvars, render=False):
    """(errors, warnings) for a run of `phases`; every error is '<path>: <problem>; <allowed>'."""
    errors, warnings = [], []
    converted = dict(variables)
    for role in roles_of(phases):
        errors += _argument_errors(role, specs.get(role) or {}, variables, converted)
    # The checks below see what the role will see: '6' from `-e name=6` is the integer 6 once the spec converted it.
    values = _Values(converted, defaults, raw=variables)
    if any(p in SPEC_PHASES + PARTIAL_SPEC_PHASES for p in phases):
        try:
            build_spec({n: variables[n] for n in SPEC_VARIABLES if n in variables},
                       whole=any(p in SPEC_PHASES for p in phases))
        except MeshSpecError as exc:
            errors += exc.errors
    for phase, prefix in ISTIO_ROLES.items():
        if phase in phases:
            errors += _istio_release_errors(values, prefix, warnings)
    if "istiod" in phases:
        errors += _istiod_errors(values)
    if "istio_gateway" in phases:
        errors += _gateway_errors(values)
    if "node_join" in phases:
        errors += _node_join_errors(values, groups or {}, hostvars or {}, render)
    if "verify_aws" in phases and values.get("verify_aws_enabled") is True and not render:
        errors += _verify_aws_errors(values, groups or {})
    if "injection" in phases:
        errors += _injection_errors(values)
    if "gitops" in phases:
        errors += _gitops_errors(values)
    return unique_in_order(errors), warnings


def _argument_errors(role, options, variables, converted):
    """The role's argument spec, as Ansible checks it when the role starts (user-set values only)."""
    params = {name: variables[name] for name in options if name in variables}
    result = ArgumentSpecValidator(options).validate(params, validate_role_argument_spec=True)
    converted.update({name: value for name, value in result.validated_parameters.items()
                      if name in params and not any("'%s'" % name in m for m in result.error_messages)})
    return ["%s (roles/%s/meta/argument_specs.yml)" % (_ARGUMENT.sub(r"\1: ", msg), role) for msg in result.error_messages]


def _istio_release_errors(values, prefix, warnings):
    errors = []
    version_var = prefix + "_version"
    version = values.get(version_var)
    where = values.origin(version_var)
    minor = istio_versions.istio_minor(version) if isinstance(version, str) and CHART_VERSION.match(version) else None
    if minor is None:
        errors.append("%s: %r is not a chart version like 1.24.1" % (where, version))
    if minor and minor not in istio_versions.SUPPORTED_ISTIO_MINORS:
        msg = ("%s: Istio %s is outside the versions this collection supports (%s.x); set "
               "istio_allow_unsupported_version: true to install it anyway"
               % (where, version, ".x, ".join(istio_versions.SUPPORTED_ISTIO_MINORS)))
        (warnings if values.get("istio_allow_unsupported_version") is True else errors).append(msg)
    namespace = values.get(prefix + "_namespace")
    if namespace is not None and not _dns_label(namespace):
        errors.append("%s: %r is not a namespace name (a DNS-1123 label of at most 63 characters: a-z, 0-9, '-')"
                      % (values.origin(prefix + "_namespace"), namespace))
    release_var = prefix + "_release_name"
    release = values.get(release_var)
    if release is not None and not (_dns_label(release) and len(release) <= HELM_RELEASE_MAX):
        errors.append("%s: %r is not a Helm release name (a DNS-1123 label of at most %d characters)"
                      % (release_var, release, HELM_RELEASE_MAX))
    repo = values.get(prefix + "_chart_repo_url")
    local = values.get(prefix + "_chart_path") or values.get(prefix + "_chart_dir")
    if not local and repo is not None and not (isinstance(repo, str) and CHART_REPO_URL.match(repo)):
        errors.append("%s: %r is not a chart repository URL (https://, http:// or oci://), and no chart path or "
                      "directory is set" % (values.origin(prefix + "_chart_repo_url"), repo))
    timeout = values.get(prefix + "_wait_timeout")
    if timeout is not None and not (isinstance(timeout, str) and GO_DURATION.match(timeout)):
        errors.append("%s: %r is not a duration like 5m, 90s or 1h30m" % (prefix + "_wait_timeout", timeout))
    return errors


def _istiod_errors(values):
    errors = _resources_errors("istiod_resources", values.get("istiod_resources"))
    errors += _labels_errors("istiod_node_selector", values.get("istiod_node_selector"))
    errors += _hpa_errors(values, "istiod_autoscale_min", "istiod_autoscale_max")
    errors += _at_least("istiod_replicas", values.get("istiod_replicas"), 1)
    errors += _tolerations_errors("istiod_tolerations", values.raw.get("istiod_tolerations"))
    return errors


def _gateway_errors(values):
    errors = _resources_errors("istio_gateway_resources", values.get("istio_gateway_resources"))
    for name in ("istio_gateway_node_selector", "istio_gateway_labels", "istio_gateway_selector"):
        errors += _labels_errors(name, values.get(name))
    errors += _hpa_errors(values, "istio_gateway_autoscaling_min", "istio_gateway_autoscaling_max")
    errors += _at_least("istio_gateway_replicas", values.get("istio_gateway_replicas"), 0)
    errors += _tolerations_errors("istio_gateway_tolerations", values.raw.get("istio_gateway_tolerations"))
    errors += _service_ports_errors(values.get("istio_gateway_service_ports"), values.get("istio_gateway_service_type"))
    return errors


def _dns_label(value):
    return isinstance(value, str) and bool(DNS1123_LABEL.match(value)) and not length_problem(value, DNS1123_LABEL)


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _at_least(path, value, low):
    if value is None:
        return []
    if _int(value) is None or value < low:
        return ["%s: %r is not an integer >= %d" % (path, value, low)]
    return []


def _hpa_errors(values, min_var, max_var):
    low, high = _int(values.get(min_var)), _int(values.get(max_var))
    errors = _at_least(min_var, values.get(min_var), 1) + _at_least(max_var, values.get(max_var), 1)
    if low is not None and high is not None and low > high:
        errors.append("%s: %d is greater than %s (%d); the HorizontalPodAutoscaler needs min <= max"
                      % (min_var, low, max_var, high))
    return errors


def quantity_problem(value):
    """None when `value` is a Kubernetes quantity (a number, or a string like 100m / 512Mi), else why not."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return "%r is not %s" % (value, QUANTITY_ALLOWED)
    if isinstance(value, str) and not QUANTITY.match(value):
        return "%r is not %s" % (value, QUANTITY_ALLOWED)
    return None


def _resources_errors(path, resources):
    if not resources:
        return []
    if not isinstance(resources, dict):
        return ["%s: must be a mapping with requests and/or limits" % path]
    errors = []
    for section, amounts in resources.items():
        where = "%s.%s" % (path, section)
        if section not in RESOURCE_SECTIONS:
            errors.append("%s: unknown key; allowed keys: %s" % (where, ", ".join(RESOURCE_SECTIONS)))
            continue
        if not isinstance(amounts, dict):
            errors.append("%s: must be a mapping of resource name (cpu, memory, ...) to quantity" % where)
            continue
        for resource, amount in amounts.items():
            problem = quantity_problem(amount)
            if problem:
                errors.append("%s.%s: %s" % (where, resource, problem))
    return errors


def _labels_errors(path, labels, allow_numbers=False):
    """Label keys and values as Kubernetes takes them: strings (a YAML number would change: 1.10 reads as 1.1)."""
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return ["%s: must be a mapping of label key to value" % path]
    errors = []
    for key, value in labels.items():
        problem = node_profile.label_key_problem(key)
        if problem:
            errors.append("%s.%s: invalid label key: %s" % (path, key, problem))
            continue
        if isinstance(value, float) or (not allow_numbers and not isinstance(value, str)):
            errors.append("%s.%s: %r is a %s, not a string; quote it in YAML ('1.10' unquoted reads as 1.1)"
                          % (path, key, value, type(value).__name__))
            continue
        if isinstance(value, str):
            problem = node_profile.label_value_problem(value)
            if problem:
                errors.append("%s.%s: invalid label value: %s" % (path, key, problem))
    return errors


def _tolerations_errors(path, tolerations):
    errors = []
    for i, tol in enumerate(tolerations or []):
        if isinstance(tol, dict) and tol.get("value") is not None and not isinstance(tol["value"], str):
            errors.append("%s[%d].value: %r is not a string; quote it in YAML" % (path, i, tol["value"]))
        if isinstance(tol, dict) and tol.get("operator") == "Exists" and tol.get("value"):
            errors.append("%s[%d].value: must be empty with operator Exists" % (path, i))
    return errors


def _service_ports_errors(ports, service_type):
    path = "istio_gateway_service_ports"
    if ports is None:
        return []
    if not isinstance(ports, list) or not ports:
        return ["%s: must list at least one port {name, port, protocol, targetPort}" % path]
    errors, names, numbers = [], {}, {}
    for i, port in enumerate(ports):
        where = "%s[%d]" % (path, i)
        if not isinstance(port, dict):
            errors.append("%s: must be a mapping {name, port, protocol, targetPort}" % where)
            continue
        name, number = port.get("name"), port.get("port")
        if not (isinstance(name, str) and SERVICE_PORT_NAME.match(name)):
            errors.append("%s.name: %r is not a Service port name (at most 15 of a-z, 0-9, '-', with a letter, "
                          "no leading, trailing or double '-')" % (where, name))
        elif name in names:
            errors.append("%s.name: %r is also the name of %s[%d]; Service port names are unique"
                          % (where, name, path, names[name]))
        else:
            names[name] = i
        if _int(number) is None or not 1 <= number <= 65535:
            errors.append("%s.port: %r is not a port number (1-65535)" % (where, number))
        else:
            protocol = port.get("protocol", "TCP")
            if protocol not in PROTOCOLS:
                errors.append("%s.protocol: %r is not one of %s" % (where, protocol, ", ".join(PROTOCOLS)))
            elif (number, protocol) in numbers:
                errors.append("%s.port: %d/%s is also %s[%d]; a Service exposes a port and protocol once"
                              % (where, number, protocol, path, numbers[(number, protocol)]))
            else:
                numbers[(number, protocol)] = i
        node_port = port.get("nodePort")
        if node_port is not None and (service_type not in ("NodePort", "LoadBalancer") or _int(node_port) is None
                                      or not NODE_PORTS[0] <= node_port <= NODE_PORTS[1]):
            errors.append("%s.nodePort: %r needs istio_gateway_service_type NodePort or LoadBalancer and a port in "
                          "%d-%d" % (where, node_port, NODE_PORTS[0], NODE_PORTS[1]))
    return errors


def pattern_hosts(pattern, groups):
    """(hosts, unknown terms) of a simple host pattern (groups and hosts joined by ',' or ':'; '!'/'&' honoured)."""
    all_hosts = groups.get("all") or []
    hosts, unknown = [], []
    for term in [t.strip() for t in re.split(r"[,:]", pattern or "") if t.strip()]:
        op, name = (term[0], term[1:]) if term[0] in "!&" else ("", term)
        if "*" in name or name.startswith("~"):
            return None, []
        if name in groups:
            members = list(groups[name])
        elif name in all_hosts:
            members = [name]
        else:
            unknown.append(name)
            continue
        if op == "!":
            hosts = [h for h in hosts if h not in members]
        elif op == "&":
            hosts = [h for h in hosts if h in members]
        else:
            hosts += [h for h in members if h not in hosts]
    return hosts, unknown


def join_pattern(variables):
    """(host pattern of the node_join phase, the variable that sets it) - as playbooks/istio.yml and the role read it."""
    for var in ("mesh_join_hosts", "node_join_target_group"):
        if var in variables and variables[var] != DEFAULT_JOIN_GROUP:
            return variables[var], var
    return DEFAULT_JOIN_GROUP, "inventory group [%s]" % DEFAULT_JOIN_GROUP


def _node_join_errors(values, groups, hostvars, render):
    errors = []
    pattern, where = join_pattern(values.variables)
    if not isinstance(pattern, str) or not pattern.strip():
        # The master checks below still run: one pass reports every problem.
        errors.append("%s: %r is not a host pattern (an inventory group or host)" % (where, pattern))
        hosts, unknown = None, []
    else:
        hosts, unknown = pattern_hosts(pattern, groups)
    known = ", ".join(sorted(g for g in groups if g not in ("all", "ungrouped")))
    for name in unknown:
        errors.append("%s: %r is neither a group nor a host of the inventory (groups: %s); the node_join phase "
                      "joins these hosts - fix the name, or skip the phase with --skip-tags node_join"
                      % (where, name, known))
    if hosts is not None and not unknown and not hosts:
        errors.append("%s: %r selects no host; the node_join phase needs the gateway node there (or --skip-tags "
                      "node_join)" % (where, pattern))
    for host in hosts or []:
        errors += profile_errors(host, hostvars.get(host) or {}, render)
    mode = values.get("node_join_mode")
    if mode == "host" and not render:
        master_group = values.get("node_join_master_group") or "masters"
        masters = groups.get(master_group) or []
        if not masters:
            errors.append("node_join_master_group: inventory group [%s] is missing or empty; add the first "
                          "control-plane node to it (or set node_join_master_group)" % master_group)
        master_set = values.set_by_user("node_join_master_host")
        master = values.get("node_join_master_host") if master_set else None
        if master_set and not master:
            errors.append("node_join_master_host: is empty; set it to a host of group '%s' (%s), or leave it unset "
                          "for the group's first host" % (master_group, ", ".join(masters) or "the group is empty"))
        elif master is not None and masters and master not in masters:
            # Per joining host, worded as the role's own preflight words it.
            errors += ["%s: node_join_master_host=%s is not a host of group '%s' (%s); set it to one of them"
                       % (host, master, master_group, ", ".join(masters)) for host in hosts or ["(no host)"]]
    return errors


def profile_errors(host, hv, render):
    """The problems of one host's node profile (labels, taints) and provider ID, from its variables `hv`."""
    labels = hv.get("node_profile_labels")
    where = "%s: node_profile_labels" % host
    if labels is None:
        return ["%s: is not set; give the host's group a node profile in group_vars (a dict of label key to "
                "string value)" % where]
    errors = _labels_errors(where, labels, allow_numbers=True)
    if not errors:
        try:
            node_profile.normalize_labels(labels, host=host)
        except node_profile.NodeProfileError as exc:
            errors.append(str(exc))
    try:
        node_profile.normalize_taints(hv.get("node_profile_taints"), host=host)
    except node_profile.NodeProfileError as exc:
        errors.append(str(exc))
    provider = hv.get("node_provider_id") or (
        "aws:///%s/%s" % (hv["aws_availability_zone"], hv["aws_instance_id"])
        if hv.get("aws_availability_zone") and hv.get("aws_instance_id") else "")
    if provider and not render and not (isinstance(provider, str) and AWS_PROVIDER_ID.match(provider)):
        errors.append("%s: node_provider_id (or aws_availability_zone + aws_instance_id): %r is not "
                      "aws:///<availability-zone>/<instance-id>, e.g. aws:///ap-northeast-2a/i-0123456789abcdef0"
                      % (host, provider))
    return errors


def _verify_aws_errors(values, groups):
    errors = []
    for var in ("verify_aws_hosts_group", "verify_aws_target_hosts_group"):
        group = values.get(var)
        if group is not None and not groups.get(group):
            errors.append("%s: inventory group [%s] is missing or empty (groups: %s)"
                          % (var, group, ", ".join(sorted(g for g in groups if g != "ungrouped"))))
    region_var = "verify_aws_region" if values.set_by_user("verify_aws_region") else "aws_region"
    region = values.get(region_var)
    if region and not (isinstance(region, str) and AWS_REGION.match(region)):
        errors.append("%s: %r is not an AWS region like ap-northeast-2 (empty means the boto3 chain)"
                      % (region_var, region))
    url = values.get("verify_aws_endpoint_url")
    if url and not (isinstance(url, str) and HTTP_URL.match(url)):
        errors.append("verify_aws_endpoint_url: %r is not an http(s) URL (empty means AWS)" % (url,))
    for var, low in (("verify_aws_alb_timeout", 0), ("verify_aws_alb_interval", 1), ("verify_aws_connect_timeout", 1),
                     ("verify_aws_max_attempts", 1), ("verify_aws_certificate_min_days", 0)):
        errors += _at_least(var, values.get(var), low)
    if not values.get("mesh_alb_certificate_arn") and not (values.get("mesh_alb") or {}).get("certificate_arn"):
        errors.append("mesh_alb_certificate_arn: is required by the verify_aws phase (the certificate it checks); set "
                      "it per environment in group_vars/all/mesh_env.yml")
    return errors


def _injection_errors(values):
    errors = []
    for i, ns in enumerate(values.get("sidecar_injection_namespaces") or []):
        if not _dns_label(ns):
            errors.append("sidecar_injection_namespaces[%d]: %r is not a namespace name (a DNS-1123 label)" % (i, ns))
    revision = values.get("sidecar_injection_revision")
    if revision and not _dns_label(revision):
        errors.append("sidecar_injection_revision: %r is not an Istio revision (empty, or a DNS-1123 label)"
                      % (revision,))
    for var, low in (("sidecar_injection_wait_timeout", 0), ("sidecar_injection_wait_delay", 1)):
        errors += _at_least(var, values.get(var), low)
    return errors


def _gitops_errors(values):
    errors = []
    for var in ("mesh_gitops_dir", "inventory_environment", "gitops_export_repo_url"):
        if not values.get(var):
            errors.append("%s: is required by the GitOps export" % var)
    env = values.get("inventory_environment")
    if env and not _dns_label(env):
        errors.append("inventory_environment: %r is not an environment name (a DNS-1123 label: it prefixes the "
                      "Application names)" % (env,))
    url = values.get("gitops_export_repo_url")
    if url and not (isinstance(url, str) and GIT_URL.match(url)):
        errors.append("gitops_export_repo_url: %r is not a Git URL Argo CD can clone (https://, ssh://, git:// or "
                      "user@host:path)" % (url,))
    server = values.get("gitops_export_destination_server")
    if server and not (isinstance(server, str) and HTTP_URL.match(server)):
        errors.append("gitops_export_destination_server: %r is not an API server URL like "
                      "https://kubernetes.default.svc" % (server,))
    namespace = values.get("gitops_export_argocd_namespace")
    if namespace and not _dns_label(namespace):
        errors.append("gitops_export_argocd_namespace: %r is not a namespace name (a DNS-1123 label)" % (namespace,))
    path = values.get("gitops_export_repo_path")
    if path and isinstance(path, str) and (path.startswith("/") or ".." in path.split("/")):
        errors.append("gitops_export_repo_path: %r must be a relative path inside the repository" % (path,))
    return errors
