"""kubesim: a local Kubernetes API stand-in for tests and rehearsals (not a cluster)."""

__version__ = "0.1.0"
