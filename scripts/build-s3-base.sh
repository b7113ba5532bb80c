#!/usr/bin/env bash
# build-s3-base.sh BASE TAG: the base image BASE with Hadoop's S3A
# connector, tagged TAG, for images that read and write s3a:// (make
# images-s3 builds snufkin/spark-{master,worker}:VERSION-s3 on it, which
# writes their class-data archives again with these jars in the class path).
#
# hadoop-aws must be the version of the hadoop-client-api jar Spark ships
# (S3A is built against that Hadoop), and its POM names the AWS SDK bundle
# and the other jars it runs with: Maven resolves exactly those
# (dependency:copy-dependencies, runtime scope) into the cache, so a second
# build downloads nothing. A second run with the same inputs does nothing.
set -euo pipefail

usage() { echo "build-s3-base: $*" >&2; echo "usage: build-s3-base.sh BASE TAG" >&2; exit 64; }
[ $# -eq 2 ] || usage "want 2 arguments, got $#"
base=$1 tag=$2
command -v mvn >/dev/null || { echo "build-s3-base: mvn is missing (scripts/host-setup.sh installs maven)" >&2; exit 1; }
cache=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}

hadoop=$(docker run --rm --user 0 --entrypoint sh "$base" -c \
  'ls "${SPARK_HOME:-/opt/spark}"/jars/ | sed -n "s/^hadoop-client-api-\(.*\)\.jar$/\1/p"')
case "$hadoop" in
  [0-9]*.[0-9]*) ;;
  *) echo "build-s3-base: $base has no single hadoop-client-api jar (found: ${hadoop:-none})" >&2; exit 1 ;;
esac
stamp=$( { cat "$0"; docker image inspect -f '{{.Id}}' "$base"; } | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "swarming-spark.s3-stamp"}}' "$tag" 2>/dev/null)" = "$stamp" ]; then
  echo "build-s3-base: $tag is up to date (hadoop-aws $hadoop)"
  exit 0
fi

jars="$cache/s3a-jars-$hadoop"
if ! ls "$jars"/hadoop-aws-"$hadoop".jar >/dev/null 2>&1; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>s3a-jars</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-aws</artifactId><version>$hadoop</version></dependency>
  </dependencies>
</project>
POM
  echo "build-s3-base: resolving hadoop-aws $hadoop and the jars its POM names (mvn)"
  mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/jars" >&2 ||
    { echo "build-s3-base: mvn could not resolve org.apache.hadoop:hadoop-aws:$hadoop" >&2; exit 1; }
  mkdir -p "$cache"
  rm -rf "$jars"
  mv "$work/jars" "$jars"
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx" ${work:+"$work"}' EXIT
cp "$jars"/*.jar "$ctx/"
docker build -q --label "swarming-spark.s3-stamp=$stamp" --label "swarming-spark.hadoop-aws.version=$hadoop" \
  --build-arg "BASE=$base" -t "$tag" -f - "$ctx" >/dev/null <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
COPY --chown=0:0 *.jar /opt/spark/jars/
DOCKERFILE
echo "build-s3-base: $tag: $base with $(cd "$jars" && ls | tr '\n' ' ')"
