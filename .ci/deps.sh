#!/usr/bin/env bash
# Installs every tool the tests need: Debian packages listed in .ci/apt/*.txt
# (one per line, # comments) and Go tools from the module proxy. Idempotent:
# runs apt only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t pkgs < <(cat .ci/apt/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	# A mirror caught mid-sync fails one index (seen with foreign
	# architectures); retry, then go on with what was fetched: the install
	# below is the step that must succeed.
	for i in 1 2 3; do
		$SUDO apt-get update -qq && break
		echo "deps: apt-get update failed (try $i), retrying" >&2
		sleep 5
	done
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

gobin="$(go env GOPATH)/bin"
[ -x "$gobin/staticcheck" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
echo "deps: ok"
