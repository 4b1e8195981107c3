# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin Kubernetes client helpers shared by the eco2.mesh modules.

Modules build one client with `client_from_module`, then use `list_objects`
/ `get_object` with plain dicts, so the pure analysis code never sees the
kubernetes library's model classes.
"""
from __future__ import annotations

import os
import traceback

KUBE_IMP_ERR = None
try:
    from kubernetes import client as _k8s_client
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (
        _create_auth_spec, _create_configuration, get_api_client)
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False
    KUBE_IMP_ERR = traceback.format_exc()

# Pure Python, importable without the kubernetes library (the argument spec must be there to report it missing).
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC  # noqa: E402

# kubernetes.core's connection options, so one module_defaults entry serves its modules and ours.
KUBE_ARG_SPEC = dict(AUTH_ARG_SPEC)

# Transient API answers (priority-and-fairness 429, an overloaded or restarting server's 502/503/504) are
# retried, bounded: at most 4 retries, each after the server's Retry-After (capped at 4 s) or exponential backoff
# (at most 4 s). Every write we make is idempotent (server-side apply, a merge patch to fixed values, delete by
# name), so writes are retried too. A 500 is the server's verdict (a failing webhook, a rejected object).
API_RETRY = dict(total=6, connect=3, read=2, status=4, backoff_factor=0.5, backoff_max=4, retry_after_max=4,
                 status_forcelist=(429, 502, 503, 504), allowed_methods=("GET", "HEAD", "PUT", "PATCH", "DELETE"),
                 respect_retry_after_header=True, raise_on_status=False)


def kube_module(options, **kwargs):
    """The AnsibleModule of a cluster module: its own options and kubernetes.core's connection options."""
    from ansible.module_utils.basic import AnsibleModule
    return AnsibleModule(argument_spec=dict(options, **KUBE_ARG_SPEC), supports_check_mode=True, **kwargs)


def cluster_access(kubeconfig=None, context=None):
    """(kubeconfig path, context or None) for a tool run beside the client (istioctl), resolved as kubernetes.core does."""
    if kubeconfig is not None and not isinstance(kubeconfig, str):
        raise ValueError("kubeconfig: a command run beside the client (istioctl) needs a kubeconfig file, not an in-memory one")
    path = (kubeconfig or os.environ.get("K8S_AUTH_KUBECONFIG") or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
            or os.path.expanduser("~/.kube/config"))
    return path, context or os.environ.get("K8S_AUTH_CONTEXT") or None


def client_configuration(auth):
    """kubernetes.core's client configuration for these connection options, without a request (no discovery)."""
    return _create_configuration(_create_auth_spec(**{k: v for k, v in (auth or {}).items() if k in AUTH_ARG_SPEC}))


def _plain(client, data):  # pylint: disable=unused-argument
    """The response's JSON as it came: the dynamic client's ResourceInstance wrapping (then to_dict) cost
    more than the request itself for a list of pods."""
    return data


def retry_transient_answers(api_client):
    """Make the kubernetes client's connection pools retry as API_RETRY says (pools made before are dropped)."""
    import inspect
    from urllib3.util.retry import Retry
    # Older urllib3 lacks some options (backoff_max, retry_after_max before 2.x; allowed_methods before 1.26).
    known = inspect.signature(Retry.__init__).parameters
    pools = api_client.rest_client.pool_manager
    pools.connection_pool_kw["retries"] = Retry(**dict((k, v) for k, v in API_RETRY.items() if k in known))
    pools.clear()


class Kube:
    """A dynamic client plus small helpers returning plain dicts.

    Built by kubernetes.core's own client factory from the connection options (or their K8S_AUTH_*
    environment variables), so cluster access means the same for kubernetes.core.k8s and eco2.mesh.
    """

    def __init__(self, auth=None):
        client = get_api_client(**{k: v for k, v in (auth or {}).items() if k in AUTH_ARG_SPEC})
        self.dynamic = client.client
        self.api_client = client.client.client
        retry_transient_answers(self.api_client)

    def resource(self, api_version, kind):
        return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def list_objects(self, api_version, kind, namespace=None, label_selector=None, missing_ok=True):
        """Items of a kind as dicts; [] when the kind is not served (e.g. CRDs absent) and missing_ok."""
        try:
            res = self.resource(api_version, kind)
        except ResourceNotFoundError:
            if missing_ok:
                return []
            raise
        kwargs = {}
        if label_selector:
            kwargs["label_selector"] = label_selector
        if namespace and res.namespaced:
            kwargs["namespace"] = namespace
        try:
            result = res.get(serializer=_plain, **kwargs)
        except NotFoundError:
            # Discovery (cached by the client) still lists a kind whose CRD was just deleted.
            if missing_ok:
                return []
            raise
        items = result.get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def get_object(self, api_version, kind, name, namespace=None):
        """One object as a dict, or None when it does not exist."""
        try:
            res = self.resource(api_version, kind)
            return res.get(name=name, namespace=namespace, serializer=_plain)
        except (NotFoundError, ResourceNotFoundError):
            return None

    def merge_patch(self, api_version, kind, name, patch, namespace=None):
        """JSON merge patch of one object; API errors become RuntimeError naming the object."""
        res = self.resource(api_version, kind)
        try:
            return res.patch(name=name, namespace=namespace, body=patch,
                             content_type="application/merge-patch+json", serializer=_plain)
        except DynamicApiError as exc:
            raise RuntimeError("%s %s%s: the API server refused the patch: %s"
                               % (kind, namespace + "/" if namespace else "", name, _api_message(exc)))

    def version(self):
        """Server version as (major, minor, git_version)."""
        info = _k8s_client.VersionApi(self.api_client).get_code()
        minor = "".join(ch for ch in info.minor if ch.isdigit())
        return int(info.major), int(minor), info.git_version


def _api_message(exc):
    """The API server's own message of a failed request (its Status.message), else the exception text."""
    body = getattr(exc, "body", None)
    try:
        import json
        return json.loads(body).get("message") or str(exc)
    except Exception:  # not a Status body
        return str(getattr(exc, "summary", lambda: exc)())


class BundleClient(Kube):
    """The four calls the bundle engine makes; errors become BundleError naming the object."""

    def __init__(self, auth=None, field_manager="eco2.mesh", error=RuntimeError):
        Kube.__init__(self, auth)
        self.field_manager = field_manager
        self.error = error

    def _resource(self, obj):
        try:
            return self.resource(obj.get("apiVersion"), obj.get("kind"))
        except ResourceNotFoundError:
            raise self.error("%s %s is not served by the API server (are its CRDs installed?)"
                             % (obj.get("apiVersion"), obj.get("kind")))

    def list_bundle(self, kinds, label_selector):
        out = []
        for api_version, kind in kinds:
            out += self.list_objects(api_version, kind, label_selector=label_selector)
        return out

    def _apply(self, obj, dry_run):
        res = self._resource(obj)
        meta = obj.get("metadata") or {}
        try:
            return self.dynamic.server_side_apply(res, body=obj, name=meta.get("name"), namespace=meta.get("namespace"),
                                                  field_manager=self.field_manager, force_conflicts=True,
                                                  dry_run="All" if dry_run else None, serializer=_plain)
        except DynamicApiError as exc:
            raise self.error("%s %s/%s: the API server refused the %s: %s"
                             % (obj.get("kind"), meta.get("namespace") or "", meta.get("name"),
                                "dry run" if dry_run else "apply", _api_message(exc)))

    def dry_run(self, obj):
        return self._apply(obj, True)

    def apply(self, obj):
        return self._apply(obj, False)

    def delete(self, obj):
        res = self._resource(obj)
        meta = obj.get("metadata") or {}
        try:
            res.delete(name=meta.get("name"), namespace=meta.get("namespace"))
        except NotFoundError:
            pass  # already gone: what prune wanted
        except DynamicApiError as exc:
            raise self.error("%s %s/%s: the API server refused the delete: %s"
                             % (obj.get("kind"), meta.get("namespace") or "", meta.get("name"), _api_message(exc)))


def client_from_module(module, cls=None, auth=None, **kwargs):
    """Build a Kube (or `cls`) from the module's connection options (or `auth`) or fail cleanly."""
    if not HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBE_IMP_ERR)
    try:
        return (cls or Kube)(module.params if auth is None else auth, **kwargs)
    except Exception as exc:  # config errors have many types; report them all the same way
        module.fail_json(msg="Cannot load the Kubernetes client configuration: %s" % exc)
