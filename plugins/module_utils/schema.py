# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A declarative, nested schema for inventory data, in the spirit of linux-system-roles/network's ArgValidator.

A schema is a tree of nodes; each node holds its type, allowed values, default and documentation.
`node.check(checker, path, value, scope)` validates a value and returns it normalised (defaults filled in),
or None when it is invalid; every problem is recorded in the checker as ``<path>: <message>``, so one run
reports them all. A default is a value or a `Derived` (a function of the scope: the enclosing mappings
being built, innermost first, then the caller's context). `rows(node, path)` documents the tree.
"""
from __future__ import annotations

import copy

from ansible_collections.eco2.mesh.plugins.module_utils.patterns import (
    DNS1035_LABEL, DNS1123_LABEL, HOST_OR_WILDCARD, LABEL_KEY, LABEL_VALUE)


def fmt(value):
    return repr(value) if isinstance(value, str) else str(value)


def length_problem(value, pattern):
    """DNS names: a label has at most 63 characters, a name at most 253."""
    if pattern in (DNS1123_LABEL, DNS1035_LABEL) and len(value) > 63:
        return "%d characters, at most 63" % len(value)
    if pattern is HOST_OR_WILDCARD:
        if len(value) > 253:
            return "%d characters, at most 253" % len(value)
        longest = max(value.split("."), key=len)
        if len(longest) > 63:
            return "the label %r has %d characters, at most 63" % (longest[:20] + "...", len(longest))
    return None


class Checker:
    """Collects the problems of one validation run."""

    def __init__(self):
        self.errors = []

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path, msg))

    def claim(self, path, name, taken, taken_msg="%r is declared twice"):
        """Add `name` to `taken` and say True; an error instead when it is there already."""
        if name in taken:
            self.err(path, taken_msg % (name,))
            return False
        taken.append(name)
        return True


class Derived:
    """A default computed from the scope; `doc` says what it is. A derivation giving None leaves the key unset;
    `check=False`: it is built from checked values only, and not checked again (no second error for one mistake);
    `when_null`: a null or empty value given for the key also means "derive it"."""

    def __init__(self, function, doc, check=True, when_null=False):
        self.function = function
        self.doc = doc
        self.check = check
        self.when_null = when_null


class Scope:
    """What a derived default may read: `scope[key]` the mappings being built (the innermost holding `key`), and
    `scope.context[key]` what the caller gives (kept apart, so a field never hides a context value)."""

    def __init__(self, context, items=()):
        self.context = context
        self.items = list(items)

    def inner(self, item):
        return Scope(self.context, [item] + self.items)

    def __getitem__(self, key):
        for item in self.items:
            if key in item:
                return item[key]
        raise KeyError(key)


class Node:
    kind = "raw"
    allowed = ""

    def __init__(self, doc="", default=None, required=True, required_doc=None):
        self.doc = doc
        self.default = default
        self.required = required
        self.required_doc = required_doc  # for the reference, when "required" needs words

    def default_value(self, scope):
        if isinstance(self.default, Derived):
            return self.default.function(scope)
        return copy.deepcopy(self.default)

    def default_doc(self):
        if isinstance(self.default, Derived):
            return self.default.doc
        if self.default is None or (self.default in ({}, []) and not isinstance(self, List)):
            return ""
        return _yaml_text(self.default)

    def check(self, c, path, value, scope):
        return value

    def type_doc(self):
        return self.kind


class Raw(Node):
    pass


class Str(Node):
    """A non-empty string, optionally matching `pattern` (a `what` names it in messages)."""
    kind = "str"

    def __init__(self, pattern=None, what=None, lower=False, **kw):
        super().__init__(**kw)
        self.pattern, self.what, self.lower = pattern, what, lower
        self.allowed = what or ""

    def check(self, c, path, value, scope):
        if value is None:
            required = self.required(scope) if callable(self.required) else self.required
            if required:
                c.err(path, required if isinstance(required, str) else "is required")
            return None
        if self.lower and isinstance(value, str):
            value = value.lower()
        if not isinstance(value, str) or not value:
            c.err(path, "%s must be a non-empty string" % fmt(value))
            return None
        what = self.what or "value"
        if self.pattern is not None and not self.pattern.match(value):
            c.err(path, "%s is not a valid %s" % (fmt(value), what))
            return None
        too_long = length_problem(value, self.pattern)
        if too_long:
            c.err(path, "%s is not a valid %s: %s" % (fmt(value), what, too_long))
            return None
        return value


class Matching(Node):
    """A string matching `pattern`; `message` (with one %r) says what is expected."""
    kind = "str"

    def __init__(self, pattern, message, allowed, accept=None, coerce=False, **kw):
        super().__init__(**kw)
        self.pattern, self.message, self.accept, self.coerce = pattern, message, accept, coerce
        self.allowed = allowed

    def check(self, c, path, value, scope):
        if self.coerce and value is not None and not isinstance(value, str):
            value = str(value)
        ok = isinstance(value, str) and (self.pattern.match(value) if self.pattern else True) and (
            self.accept is None or self.accept(value))
        if not ok:
            c.err(path, self.message % (value,))
            return None
        return value


class Choice(Node):
    """One of `choices` (a tuple, or a function of the scope for choices known only at run time)."""
    kind = "str"

    def __init__(self, choices, lower=False, none_doc="(none)", **kw):
        super().__init__(**kw)
        self.choices, self.lower, self.none_doc = choices, lower, none_doc
        self.allowed = ", ".join(choices) if not callable(choices) else ""

    def check(self, c, path, value, scope):
        choices = self.choices(scope) if callable(self.choices) else self.choices
        if self.lower and isinstance(value, str):
            value = value.lower()
        if not isinstance(value, str) or value not in choices:
            c.err(path, "%s is not one of %s" % (fmt(value), ", ".join(choices) or self.none_doc))
            return None
        return value


class Number(Node):
    """A number between `low` and `high`; `message` (with one %r) says what is expected."""

    def __init__(self, low, high, message, integer=False, **kw):
        super().__init__(**kw)
        self.low, self.high, self.message, self.integer = low, high, message, integer
        self.kind = "int" if integer else "float"
        self.allowed = "%s-%s" % (low, high)

    def check(self, c, path, value, scope):
        types = int if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, types) or not self.low <= value <= self.high:
            c.err(path, self.message % (value,))
            return None
        return value


class Port(Number):
    """A port number; a quoted one becomes a number."""

    def __init__(self, **kw):
        super().__init__(1, 65535, "%r is not a port number (1-65535)", integer=True, **kw)

    def check(self, c, path, value, scope):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        return super().check(c, path, value, scope)


class Bool(Node):
    """true or false; null means the default."""
    kind = "bool"
    allowed = "true, false"

    def check(self, c, path, value, scope):
        if value is None:
            return self.default_value(scope)
        if not isinstance(value, bool):
            c.err(path, "%s is not one of true, false" % fmt(value))
            return self.default_value(scope)
        return value


class Labels(Node):
    """A mapping of Kubernetes label key to value."""
    kind = "dict"
    allowed = "label key: value"

    def __init__(self, non_empty=False, **kw):
        super().__init__(**kw)
        self.non_empty = non_empty

    def check(self, c, path, value, scope):
        if value is None:
            return {} if isinstance(self.default, Derived) else self.default_value(scope) or {}
        if not isinstance(value, dict):
            c.err(path, "must be a mapping of label key to value")
            return {}
        out = {}
        for key, val in value.items():
            if not isinstance(key, str) or not LABEL_KEY.match(key):
                c.err("%s.%s" % (path, key), "%s is not a valid label key" % fmt(key))
                continue
            if not isinstance(val, str) or not LABEL_VALUE.match(val):
                hint = "; quote it in YAML ('1.10' unquoted reads as 1.1)" if not isinstance(val, str) else ""
                c.err("%s.%s" % (path, key), "%s is not a valid label value (a string of at most 63 characters%s)"
                      % (fmt(val), hint))
                continue
            out[key] = val
        if not out and self.non_empty:
            c.err(path, "must not be empty")
        return out


class Prefix(Matching):
    """A URI path prefix."""

    def __init__(self, **kw):
        super().__init__(None, "%r must be a URI path prefix starting with '/'", "a path starting with /",
                         accept=lambda value: value.startswith("/"), **kw)


class Either(Node):
    """One of the `literals`, or a value of `node`; `message` (one %s) replaces the node's own on a mismatch."""

    def __init__(self, literals, node, message=None, **kw):
        super().__init__(**kw)
        self.literals, self.node, self.message = literals, node, message
        self.kind = "raw"
        self.allowed = ", ".join(literals) + (" or " + node.allowed if node.allowed else "")

    def type_doc(self):
        return " or ".join(sorted({"str", self.node.kind}))

    def check(self, c, path, value, scope):
        if value in self.literals:
            return value
        if self.message is None:
            return self.node.check(c, path, value, scope)
        out = self.node.check(Checker(), path, value, scope)
        if out is None:
            c.err(path, self.message % fmt(value))
        return out


class Custom(Node):
    """A rule no other node says: `function(checker, path, value, scope)` returns the normalised value."""

    def __init__(self, function, kind="raw", allowed="", values=None, **kw):
        super().__init__(**kw)
        self.function, self.kind, self.allowed = function, kind, allowed
        self.values = values  # a mapping of names to `values` nodes: documented as such

    def check(self, c, path, value, scope):
        return self.function(c, path, value, scope)


class List(Node):
    """A list of `item`; invalid items are left out. `min_message`: the error for an empty list.

    Lists of mappings may have a `key` field unique across the list, or across every list sharing the context's
    `taken` list of that name; an item whose key is invalid or taken is left out whole. The key is claimed as soon
    as it is checked (the rest of a left-out item is not checked), or with `claim_first=False` after the whole item.
    `string_key`: an item given as a string stands for {string_key: item}.
    """
    kind = "list"

    def __init__(self, item, min_message=None, key=None, taken=None, taken_message="%r is declared twice",
                 string_key=None, claim_first=True, min_valid=False, **kw):
        kw.setdefault("default", [])
        super().__init__(**kw)
        self.min_valid = min_valid  # the list must hold a valid item, not just any
        self.item, self.min_message, self.key, self.taken = item, min_message, key, taken
        self.taken_message, self.string_key, self.claim_first = taken_message, string_key, claim_first

    def type_doc(self):
        return "list of %s" % (self.item.type_doc() if not isinstance(self.item, Dict) else "mappings")

    @property
    def allowed(self):
        return "" if isinstance(self.item, Dict) else self.item.allowed

    def check(self, c, path, value, scope):
        if value is None:
            # only a list whose `required` says so (a function of the scope, or words) must be given
            required = self.required(scope) if callable(self.required) else None
            if required:
                c.err(path, required if isinstance(required, str) else "is required")
            value = []
        if not isinstance(value, list):
            c.err(path, "must be a list")
            value = []
        if not value and self.min_message and not self.min_valid:
            c.err(path, self.min_message)
        taken = scope.context.setdefault(self.taken, []) if self.taken else []
        out = []
        for i, raw in enumerate(value):
            item_path = "%s[%d]" % (path, i)
            if self.string_key and isinstance(raw, str):
                raw = {self.string_key: raw}
            if self.key and self.claim_first:
                checked = self.item.check(c, item_path, raw, scope, gate=self._gate(taken))
            else:
                checked = self.item.check(c, item_path, raw, scope)
                if checked is not None and self.key and not self._claim(c, item_path, checked, taken):
                    checked = None
            if checked is not None:
                out.append(checked)
        if not out and self.min_message and self.min_valid:
            c.err(path, self.min_message)
        return out

    def _claim(self, c, path, item, taken):
        name = item[self.key]
        return name is not None and c.claim("%s.%s" % (path, self.key), name, taken, self.taken_message)

    def _gate(self, taken):
        """Called by the item's Dict after each field: claims the key as soon as it is checked."""
        def gate(c, path, item, checked):
            return checked != self.key or self._claim(c, path, item, taken)
        return gate


class Dict(Node):
    """A mapping with the declared `fields` (checked in order; an absent key takes the field's default, an invalid
    value falls back to it).

    `optional`: null means absent (None is returned, nothing checked). `one_of`: exactly one of these keys must be
    given, else the mapping is left out with `one_of_message` (checked where the first of them is declared).
    `post(checker, path, value, scope)`: the rules between fields; it returns the normalised mapping, or None to
    leave it out.
    """
    kind = "dict"

    def __init__(self, fields, optional=False, one_of=None, one_of_message=None, post=None, **kw):
        kw.setdefault("default", None if optional else {})
        super().__init__(**kw)
        self.fields, self.optional, self.one_of, self.one_of_message = fields, optional, one_of, one_of_message
        self.post = post

    def default_doc(self):
        return ""

    def check(self, c, path, value, scope, gate=None):
        if value is None:
            if self.optional:
                return None
            value = {}
        if not isinstance(value, dict):
            c.err(path, "must be a mapping")
            value = {}
        for key in value:
            if key not in self.fields:
                c.err("%s.%s" % (path, key), "unknown key; allowed keys: %s" % ", ".join(sorted(self.fields)))
        out = {}
        inner = scope.inner(out)
        for name, node in self.fields.items():
            if self.one_of and name in self.one_of:
                if name == self.one_of[0] and sum(key in value for key in self.one_of) != 1:
                    c.err(path, self.one_of_message)
                    return None
                if name not in value:
                    out[name] = None
                    continue
            out[name] = field(c, "%s.%s" % (path, name), node, value, name, inner)
            if gate is not None and not gate(c, path, out, name):
                return None
        return self.post(c, path, out, scope) if self.post else out


def field(c, path, node, mapping, key, scope):
    """The checked value of `mapping[key]`, or of the node's default when the key is absent.

    A derived default that gives None leaves the value None unchecked (nothing to derive it from); an invalid value
    falls back to the node's fixed default, so one mistake does not cascade.
    """
    given = key in mapping and not (isinstance(node.default, Derived) and node.default.when_null
                                    and mapping[key] in (None, ""))
    if given:
        value = node.check(c, path, mapping[key], scope)
    else:
        default = node.default_value(scope)
        if isinstance(node.default, Derived) and (default is None or not node.default.check):
            return default
        value = node.check(c, path, default, scope)
    if value is None and node.default is not None and not isinstance(node.default, Derived):
        return node.default_value(scope)
    return value


def rows(node, path, one_of=None):
    """(path, type, default, allowed values, description) of `node` and everything under it.

    A fixed default is given as `code`, a derived one as the words that say how it is derived.
    """
    default = node.default_doc()
    if node.required_doc:
        default = "required (%s)" % node.required_doc
    elif default and not isinstance(node.default, Derived):
        default = "`%s`" % default
    elif one_of:
        default = "exactly one of %s" % ", ".join(one_of)
    elif isinstance(node, Dict) and node.optional:
        default = "absent (off)"
    elif isinstance(node, List) and node.min_message and not node.default:
        default = "required (at least one)"
    elif node.default is None and node.required and isinstance(node, (Str, Matching, Choice, Number)):
        default = "required"
    yield path, node.type_doc(), default, node.allowed, node.doc
    if isinstance(node, List):
        node, path = node.item, path + "[]"
    if getattr(node, "values", None) is not None:
        node, path = node.values, path + ".<name>"
    if isinstance(node, Dict):
        for name, field in node.fields.items():
            group = node.one_of if node.one_of and name in node.one_of else None
            yield from rows(field, "%s.%s" % (path, name), group)


def defaults(node):
    """The defaults of a mapping's fields that need no context (the empty model's values)."""
    return {name: field.default_value(Scope({})) for name, field in node.fields.items()
            if not isinstance(field.default, Derived)}


def _yaml_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (k, _yaml_text(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_text(v) for v in value) + "]"
    return str(value)
