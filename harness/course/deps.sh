#!/usr/bin/env bash
# Install what the kit needs on Debian/Ubuntu (apt-get, through sudo when not root), or say
# exactly what to run. Called by make before the first build; quiet when all is present.
set -euo pipefail

# Debian package names, and why each is needed.
packages=(
  pkg-config            # finds the libraries' flags
  libcurl4-openssl-dev  # the HTTP client every lesson uses
  libcriterion-dev      # the test framework
  libmicrohttpd-dev     # the HTTP server library under delayd, the bundled test server
  libjansson-dev        # JSON, for the server's /stats
  libxml2-dev           # the HTML parser of lesson 12's crawler
  gnuplot-nox           # charts
  valgrind              # the runtime's leak and stack checks
  patch                 # applies the known-mistake patches in make check
  python3-aiohttp       # the asyncio side of make benchmark
)
# Optional: the kit works without them, a little less well. Installed with the others, or alone
# when root (or sudo without a password) can; otherwise a note, and make goes on.
optional=(
  inotify-tools         # inotifywait: make lesson-NN watch reacts at once to a save (else it polls)
)
# make grade: bubblewrap, the sandbox each submission is built and tested in (the grader refuses
# to grade a class without it, and says why).
[ "${KIT_DEPS_GRADE:-}" = 1 ] && optional+=(
  bubblewrap            # bwrap: make grade's sandbox
)
# make benchmark (and check-benchmark): Go and Node.js, two of the peers the aio runtime is
# measured against (a missing one is left out of the run, with a line saying so).
[ "${KIT_DEPS_BENCHMARK:-}" = 1 ] && optional+=(
  golang-go             # go: make benchmark's Go peer
  nodejs                # node: make benchmark's Node.js peer
)
# CC=clang (make check CC=clang, the CI's second compiler): clang, only when asked for.
case ${CC:-} in *clang*) command -v "${CC%% *}" >/dev/null 2>&1 || packages+=(clang) ;; esac

missing=()
opt_missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  for p in "${optional[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      opt_missing+=("$p")
    fi
  done
else
  for lib in libcurl criterion libmicrohttpd jansson libxml-2.0; do
    pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib")
  done
  command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot)
  command -v timeout >/dev/null 2>&1 || missing+=(timeout)
  if [ ${#missing[@]} -gt 0 ]; then
    # macOS: Homebrew's names (coreutils brings GNU timeout, which the scripts use).
    brew_pkgs=(pkg-config curl criterion libmicrohttpd jansson libxml2 gnuplot coreutils)
    if [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
      echo "kit: installing with Homebrew: ${brew_pkgs[*]}"
      brew install "${brew_pkgs[@]}" && exit 0
      echo "[deps-brew] brew install ${brew_pkgs[*]} failed (see above); run it by hand, then make again." >&2
      exit 1
    fi
    echo "The kit needs: ${missing[*]} (with their development headers)." >&2
    echo "This is not a Debian/Ubuntu machine, so install them with your package manager," >&2
    echo "for example on macOS (https://brew.sh first): brew install ${brew_pkgs[*]}" >&2
    exit 1
  fi
  exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
  [ ${#opt_missing[@]} -eq 0 ] && exit 0
  note="kit: optional: ${opt_missing[*]} (inotify-tools: make lesson-NN watch reacts at once to a save; bubblewrap: make grade's sandbox, without which it grades no class; golang-go, nodejs: make benchmark's Go and Node.js peers)."
  if [ "$(id -u)" -eq 0 ]; then sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo)
  else echo "$note To add it: sudo apt-get install ${opt_missing[*]}" >&2; exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  if { "${sudo[@]}" apt-get install -y --no-install-recommends "${opt_missing[@]}" >/dev/null 2>&1 ||
       { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y --no-install-recommends "${opt_missing[@]}" >/dev/null; }; } 2>/dev/null; then
    echo "kit: installed ${opt_missing[*]} (optional)"
  else
    echo "$note Its install failed; make goes on without it." >&2
  fi
  exit 0
fi
missing+=("${opt_missing[@]}")

install=(apt-get install -y --no-install-recommends "${missing[@]}")
echo "kit: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
  sudo=(sudo)
else
  echo "kit: these packages are missing and I cannot install them without root:" >&2
  echo "    sudo apt-get update && sudo ${install[*]}" >&2
  echo "Run that, then run make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq || ! "${sudo[@]}" "${install[@]}" >/dev/null; then
  echo "kit: the install failed. Run it yourself to see why:" >&2
  echo "    sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi
echo "kit: dependencies installed"
