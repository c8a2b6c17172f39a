#!/usr/bin/env bash
# Runs the JMH benchmarks of mproxy-bench with short settings that suit a small shared machine.
#
#   bench/jmh.sh                                   # everything (about 12 minutes)
#   bench/jmh.sh CoreChain                         # benchmarks whose name matches a regex
#   bench/jmh.sh RespDecoder -p valueSize=1024     # extra JMH arguments are passed through
#   bench/jmh.sh -l                                # list the benchmarks
#   bench/jmh.sh -wi 1 -i 2 CoreChain              # a default option given again replaces it
#   JMH_DEFAULTS='-f 3 -wi 5 -i 10 -prof gc' bench/jmh.sh CoreChain   # other default settings
#
# Builds mproxy-benchmarks.jar first when it is missing or older than the sources it depends on.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
jar="$root/mproxy-bench/target/mproxy-benchmarks.jar"
defaults="${JMH_DEFAULTS:--f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc}"

stale() {
  [[ ! -f $jar ]] && return 0
  [[ -n $(find "$root/pom.xml" "$root/mproxy-bench" "$root/mproxy-core" "$root/mproxy-protocol-redis" "$root/mproxy-protocol-mongo" \
            \( -name target -prune \) -o -type f \( -path '*/src/main/*' -o -name pom.xml \) \
            -newer "$jar" -print -quit) ]]
}

command -v java >/dev/null || { echo "bench/jmh.sh: java is not on PATH (JDK 17+ needed)" >&2; exit 1; }

if stale; then
  echo "bench/jmh.sh: building $jar" >&2
  (cd "$root" && ./mvnw -q -B -DskipTests -pl mproxy-bench -am package)
  [[ -f $jar ]] || { echo "bench/jmh.sh: the build finished but $jar is missing" >&2; exit 1; }
fi

# A bare -l/-h/-lp must not get the run settings.
for a in "$@"; do
  case $a in -l|-lp|-h|-help|--help|-lprof|-lrf) exec java -jar "$jar" "$@" ;; esac
done

# A default is dropped when the caller gives the same option (JMH refuses an option twice);
# -prof may repeat, so the caller's profilers add to the default one.
# JMH_DEFAULTS is split on spaces on purpose: it holds option/value pairs.
# shellcheck disable=SC2206
default_args=($defaults)
args=()
for ((i = 0; i < ${#default_args[@]}; i += 2)); do
  opt=${default_args[i]}
  given=0
  if [[ $opt != -prof ]]; then
    for a in "$@"; do [[ $a == "$opt" ]] && given=1; done
  fi
  ((given)) || args+=("$opt" "${default_args[i + 1]:-}")
done
exec java -jar "$jar" "${args[@]}" "$@"
