"""In-memory object storage: one global resourceVersion counter, event history and watchers."""
from __future__ import annotations

import asyncio
import collections
import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

Key = tuple[str, str]  # (group, plural)
HISTORY = 5000


@dataclass
class Event:
    rv: int
    key: Key
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict


@dataclass(eq=False)
class Watcher:
    key: Key
    namespace: str | None
    predicate: Callable[[dict], bool]
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


class Store:
    def __init__(self) -> None:
        self.objects: dict[Key, dict[tuple[str, str], dict]] = collections.defaultdict(dict)
        self.rv = 1
        self.history: collections.deque[Event] = collections.deque(maxlen=HISTORY)
        self.watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Event], None]] = []

    # -- reads ---------------------------------------------------------------
    def get(self, key: Key, namespace: str | None, name: str) -> dict | None:
        return self.objects[key].get((namespace or "", name))

    def list(self, key: Key, namespace: str | None = None) -> list[dict]:
        items = self.objects[key]
        out = [o for (ns, _), o in items.items() if namespace is None or ns == namespace]
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def all_items(self) -> Iterable[tuple[Key, dict]]:
        for key, items in list(self.objects.items()):
            for obj in list(items.values()):
                yield key, obj

    # -- writes (callers have already built the final object) ----------------
    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def put(self, key: Key, obj: dict, event_type: str) -> dict:
        meta = obj["metadata"]
        meta["resourceVersion"] = self.next_rv()
        self.objects[key][(meta.get("namespace", ""), meta["name"])] = obj
        self._emit(Event(int(meta["resourceVersion"]), key, event_type, obj))
        return obj

    def remove(self, key: Key, namespace: str | None, name: str) -> dict | None:
        obj = self.objects[key].pop((namespace or "", name), None)
        if obj is not None:
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = self.next_rv()
            self._emit(Event(self.rv, key, "DELETED", obj))
        return obj

    def drop_kind(self, key: Key) -> None:
        for (ns, name) in list(self.objects.get(key, {})):
            self.remove(key, ns, name)

    def _emit(self, ev: Event) -> None:
        self.history.append(ev)
        for w in list(self.watchers):
            if w.key == ev.key and (w.namespace is None or w.namespace == ev.obj["metadata"].get("namespace", "")):
                w.queue.put_nowait(ev)
        for cb in self.listeners:
            cb(ev)

    # -- watch support -------------------------------------------------------
    def events_since(self, key: Key, rv: int) -> list[Event] | None:
        """Events after rv for key, or None when rv is older than the kept history."""
        if self.history and rv < self.history[0].rv - 1 and rv < self.rv:
            return None
        return [e for e in self.history if e.key == key and e.rv > rv]

    # -- persistence ---------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {"rv": self.rv, "objects": [{"group": k[0], "plural": k[1], "object": o}
                                           for k, o in self.all_items()]}

    def load(self, data: dict[str, Any]) -> None:
        self.rv = int(data.get("rv", 1))
        for item in data.get("objects", []):
            obj = item["object"]
            meta = obj["metadata"]
            self.objects[(item["group"], item["plural"])][(meta.get("namespace", ""), meta["name"])] = obj


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
