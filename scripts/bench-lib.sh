# Sourced by the benchmark scripts: clock readings and the summary of a
# list of samples, so that every table computes its figures the same way.

# now: seconds since the epoch, to the microsecond.
now() { echo "$EPOCHREALTIME"; }
# secs T0: seconds since the reading T0, two decimals.
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# summary SAMPLES DIGITS UNIT: "median UNIT (min–max)" of space-separated
# samples, each figure with DIGITS decimals.
summary() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk -v d="$2" -v u="$3" '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; f = "%." d "f"; printf f " " u " (" f "–" f ")", m, a[1], a[NR]}'; }
# stats SAMPLES: "median s (min–max)", one decimal.
stats() { summary "$1" 1 s; }
# med SAMPLES: the median of space-separated samples, two decimals.
med() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.2f", NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
