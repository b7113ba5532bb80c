#!/usr/bin/env bash
# bare-jvm.sh CLASS [ARG...]: the JVM floor of make bench-cluster with the
# image's class-data archive. It does what bin/spark-class does, ask Spark's
# launcher for the java command and exec it, and changes only what the
# entrypoint changes for the archive (entrypoint/doc.go, "Class-data
# archive"): -XX:SharedArchiveFile, and the class path the archive was
# written with (Spark's jars in sorted order) followed by the launcher's
# other entries. Run inside the image as the container's command (bash, as
# the image's scripts may have lost their exec bits).
set -euo pipefail
home=${SPARK_HOME:-/opt/spark}
case "$1" in
  *.Master) archive=/usr/local/lib/spark-cds/master ;;
  *) archive=/usr/local/lib/spark-cds/worker ;;
esac
core=$(ls "$home"/jars/spark-core_*.jar | head -1)
scala=${core##*/spark-core_}
scala=${scala%%-*}

cmd=()
while IFS= read -r -d '' arg; do
  # Spark 3.4+ prints a NUL and a newline before the command.
  arg=${arg#$'\n'}
  [ -n "$arg" ] && cmd+=("$arg")
done < <(SPARK_SCALA_VERSION=$scala java -Xmx128m -cp "$home/jars/*" org.apache.spark.launcher.Main "$@")

cp=$(cat "$archive.classpath")
for ((i = 1; i < ${#cmd[@]}; i++)); do
  [ "${cmd[i - 1]}" = -cp ] || continue
  IFS=: read -r -a entries <<<"${cmd[i]}"
  for e in "${entries[@]}"; do
    # The archive's class path holds every jar of $home/jars already.
    case "$e" in "$home"/jars/*) ;; *) cp+=":$e" ;; esac
  done
  cmd[i]=$cp
done
exec "${cmd[0]}" "-XX:SharedArchiveFile=$archive.jsa" "${cmd[@]:1}"
