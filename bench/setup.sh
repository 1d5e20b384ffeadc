#!/usr/bin/env bash
# Installs what `npm run bench:build` needs besides tsbuild's own test tools:
# buildah (Debian package), plus docker-registry, skopeo, runc and
# busybox-static when missing. Run as root on Debian 12. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v runc >/dev/null 2>&1 || need+=(runc)
[[ -x /bin/busybox ]] || need+=(busybox-static)
if ((${#need[@]})); then
  apt-get update -qq
  apt-get install -y "${need[@]}"
fi
buildah --version
