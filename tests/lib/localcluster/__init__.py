"""A real Kubernetes control plane on 127.0.0.1 for tests and rehearsals.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler (built from
their Go modules by scripts/bootstrap.sh), KWOK as the kubelets of the Nodes
the inventory describes, and a local istiod that serves the istiod pod's role
once the istiod chart is installed. `scripts/local-cluster` is the command
line; tests use tests.lib.cluster.
"""
