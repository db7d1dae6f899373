#!/usr/bin/env bash
# `make check-devcontainer`: build the dev container's image from .devcontainer/Dockerfile and run
# `make check` inside it, as its `student` user, on a clean clone of this commit. It proves that a
# student who opens the kit in the container has everything: `make` installs nothing there.
#
# What it needs, installed here when missing (as root, from Debian): podman, and debootstrap
# when Docker Hub cannot be reached. The image is built FROM debian:12 when podman can pull it;
# otherwise a Debian 12 root is made with debootstrap from this machine's own Debian mirror and
# imported as the base (`podman build --from`), which is the same distribution the Dockerfile
# names. The build runs with `--isolation=chroot`, which needs no container runtime.
# The tests run with `podman run` where this kernel allows containers; where it does not (a
# microVM without the cgroup and seccomp support podman's runtime wants), they run with bwrap in
# a container of the image (`podman create`, `podman mount`: its own writable layer), as uid 1000 in a user namespace, with their
# own network namespace: the image's programs and libraries, not this machine's.
#
# It takes about 8 minutes the first time here (the base and the packages 2.5, then make check), and is not
# part of CI. Its last line is `N passed, N failed`, for make check inside the image.
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }

dir=$BUILD/devcontainer
image=localhost/kit-devcontainer
say() { printf '%s\n' "$*"; }
skip() { say "[devcontainer-skipped] $*"; say "0 passed, 0 failed"; exit 0; }
fail() { say "[devcontainer-failed] $*"; say "0 passed, 1 failed"; exit 1; }
mkdir -p "$dir"

# ---- what it needs ------------------------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v bwrap >/dev/null || need+=(bubblewrap)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null ||
    skip "missing: ${need[*]}. As root on Debian: apt-get install ${need[*]}"
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >"$dir/apt.log" 2>&1 ||
    { apt-get update -q >>"$dir/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$dir/apt.log" 2>&1; } ||
    { tail -n 5 "$dir/apt.log"; skip "the packages above could not be installed"; }
fi
[ "$(id -u)" -eq 0 ] || skip "run it as root: podman's image mount and debootstrap need it here"

# ---- the base: debian:12 ------------------------------------------------------------------------
from=()
if timeout 60 podman pull -q docker.io/library/debian:12 >"$dir/pull.log" 2>&1; then
  say "base: docker.io/library/debian:12"
else
  base=localhost/kit-debian:12
  if ! podman image exists "$base"; then
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    say "base: Docker Hub cannot be reached ($(tail -n 1 "$dir/pull.log" | cut -c1-100)); making a Debian 12 root with debootstrap from $mirror"
    rm -rf "$dir/rootfs"
    debootstrap --variant=minbase bookworm "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
      { tail -n 5 "$dir/debootstrap.log"; fail "debootstrap failed (see $dir/debootstrap.log)"; }
    tar -C "$dir/rootfs" -c . | podman import -q - "$base" >/dev/null ||
      fail "podman import of the Debian root failed"
    rm -rf "$dir/rootfs"
  fi
  from=(--from "$base")
  say "base: $base (debootstrap, bookworm)"
fi

# ---- the image ----------------------------------------------------------------------------------
start=$(date +%s)
if ! podman build --isolation=chroot "${from[@]}" -t "$image" -f .devcontainer/Dockerfile \
    .devcontainer >"$dir/build.log" 2>&1; then
  tail -n 10 "$dir/build.log"
  fail "the image did not build from .devcontainer/Dockerfile (see $dir/build.log)"
fi
say "PASS  image built from .devcontainer/Dockerfile in $(( $(date +%s) - start )) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MiB", $1 / 1048576 }'))"

# ---- make check inside it, as the student, on a clean clone -------------------------------------
rm -rf "$dir/kit"
git clone -q . "$dir/kit" || fail "git clone of this checkout failed"
# The uncommitted state is not what a student gets; say so rather than test it.
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  say "note: this checkout has uncommitted changes; the container tests the commit $(git rev-parse --short HEAD)"

cmd=(bash -lc 'cd /workspaces/kit && make check')
log=$dir/check.log
start=$(date +%s)
if timeout 30 podman run --rm "$image" true >"$dir/run-probe.log" 2>&1; then
  say "running make check with podman run"
  chown -R 1000:1000 "$dir/kit"
  podman run --rm --user student -v "$dir/kit:/workspaces/kit" "$image" "${cmd[@]}" >"$log" 2>&1
else
  say "podman run is refused here ($(tail -n 1 "$dir/run-probe.log" | cut -c1-120)); running make check with bwrap in the image's file system"
  # A container of the image (its own writable layer, as podman run would give it), mounted.
  podman rm -f kit-devcontainer-check >/dev/null 2>&1
  podman create -q --name kit-devcontainer-check "$image" true >/dev/null &&
    root=$(podman mount kit-devcontainer-check) || fail "podman create or mount failed"
  trap 'podman umount kit-devcontainer-check >/dev/null 2>&1; podman rm -f kit-devcontainer-check >/dev/null 2>&1' EXIT
  mkdir -p "$root/workspaces/kit" "$root/home/student"
  # Files owned by root here are the student's inside the user namespace (uid 0 maps to 1000).
  # /proc is this machine's, whole: a /proc with parts covered (bwrap's own --proc, Docker's
  # default masked paths) forbids the grader's sandbox to mount its own ("mount too revealing"),
  # which is why devcontainer.json asks Docker for systempaths=unconfined. Without a PID
  # namespace of its own here, so that /proc's numbers are the processes' own.
  bwrap --unshare-user --uid 1000 --gid 1000 --unshare-net --unshare-ipc \
        --unshare-uts --hostname kit-devcontainer --die-with-parent \
        --bind "$root" / --bind /proc /proc --dev /dev --tmpfs /tmp --tmpfs /run \
        --bind "$dir/kit" /workspaces/kit \
        --clearenv --setenv HOME /home/student --setenv USER student --setenv LANG C.UTF-8 \
        --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        "${cmd[@]}" >"$log" 2>&1
fi
say "make check inside the image took $(( $(date +%s) - start )) s (log: $log)"
grep -E '^FAIL' "$log" | head -n 20
last=$(grep -v -E '^make(\[[0-9]+\])?: \*\*\* ' "$log" | tail -n 1)
if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  say "$( [ "${BASH_REMATCH[2]}" -eq 0 ] && echo PASS || echo FAIL)  make check in the dev container: $last"
  say "$last"
  [ "${BASH_REMATCH[2]}" -eq 0 ]
else
  tail -n 10 "$log"
  fail "make check in the dev container did not end with its counts (see $log)"
fi
