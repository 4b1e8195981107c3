# Source me: puts the project's virtualenv and tools first on PATH.
_eco2_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_eco2_root/.venv/bin:$_eco2_root/.tools/bin:$PATH"
export ANSIBLE_CONFIG="$_eco2_root/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$_eco2_root/.tools/collections"
export ANSIBLE_LOCAL_TEMP="${TMPDIR:-/tmp}/eco2-ansible-local"
export ANSIBLE_HOME="$_eco2_root/.tools/ansible-home"
# The local cluster's Go tools build with the machine's Go (tools/*/go.mod): never a downloaded toolchain.
export GOTOOLCHAIN=local
unset _eco2_root
