"""`make bench`: the migration (playbooks/istio.yml) against the floor, on fresh local clusters."""
