#!/usr/bin/env bash
# Checks deploy/: the systemd unit as systemd reads it (and its hardening, exposure at most 2.0
# on systemd-analyze's scale of 10), and the example production configuration as learnloop reads
# it, with its secrets in place. Usage: deploy_check.sh SOURCE_DIR LEARNLOOP_BINARY
set -euo pipefail
src=$1
bin=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed "s|/usr/local/bin/learnloop|$bin|g" "$src/deploy/learnloop.service" >"$work/learnloop.service"
systemd-analyze verify "$work/learnloop.service"
systemd-analyze security --offline=yes --threshold=20 "$work/learnloop.service" >"$work/security" ||
  { cat "$work/security"; echo "deploy/learnloop.service: exposure above 2.0"; exit 1; }
grep -q '^Type=notify' "$work/learnloop.service"
grep -q '^WatchdogSec=' "$work/learnloop.service"

# The example configuration, with its files in a folder of ours and its variables set.
mkdir -p "$work/etc" "$work/lib"
sed -e "s|/etc/learnloop/|$work/etc/|g" -e "s|/var/lib/learnloop/|$work/lib/|g" \
  "$src/deploy/learnloop.yaml" >"$work/learnloop.yaml"
printf 'k3y' >"$work/etc/pseudonym.key"
printf 'refresh' >"$work/etc/yammer-refresh-token"
chmod 600 "$work/etc/"*
LEARNLOOP_ADMIN_TOKEN=a LEARNLOOP_YAMMER_CLIENT_SECRET=b LEARNLOOP_TEAMS_CLIENT_SECRET=c \
  "$bin" check-config "$work/learnloop.yaml"
echo "deploy/: unit and example configuration OK"
