# spark-env.sh of the snufkin/spark-master and snufkin/spark-worker images.
#
# Spark's scripts source this file (bin/load-spark-env.sh, from
# spark-class), so it applies to what a user starts by hand in a container:
# `docker exec -it <master> spark-shell --master spark://spark-master:7077`,
# spark-submit, pyspark. Such a driver advertises its host's canonical name
# to the executors (spark.driver.host), and a container's hostname resolves
# only inside the container: the executors could never dial it back. Its
# address does, on every network the workers share with it. The daemons the
# entrypoint starts are not drivers and are left alone (spark-class is not
# how they start, so SparkSubmit is not the class here), and a user's own
# SPARK_LOCAL_HOSTNAME, spark.driver.host or mounted conf directory wins.
if [ "${1:-}" = org.apache.spark.deploy.SparkSubmit ] && [ -z "${SPARK_LOCAL_HOSTNAME:-}" ]; then
  SPARK_LOCAL_HOSTNAME=$(hostname -i 2>/dev/null | awk '{print $1}')
  [ -n "$SPARK_LOCAL_HOSTNAME" ] || unset SPARK_LOCAL_HOSTNAME
fi

# Such a driver also lets its executors leave a stopping worker once their
# running tasks end, instead of losing them: the workers of these images
# decommission on a stop, and an executor follows only when its own conf,
# taken from its driver, has spark.decommission.enabled (Spark's
# configuration docs and SPARK-31197: the executor then exits once it runs
# no task). A --conf or a conf file that sets it wins over this system
# property.
if [ "${1:-}" = org.apache.spark.deploy.SparkSubmit ]; then
  case " ${SPARK_SUBMIT_OPTS:-} " in
    *" -Dspark.decommission.enabled="*) ;;
    *) export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }-Dspark.decommission.enabled=true" ;;
  esac
fi

# With the master's reverse proxy (ENTRYPOINT_UI_PROXY=on or a URL, see
# entrypoint/doc.go), every driver must say so too, for the master to relay
# its UI and for its links to point there.
if [ "${1:-}" = org.apache.spark.deploy.SparkSubmit ] && [ -n "${ENTRYPOINT_UI_PROXY:-}" ] && [ "$ENTRYPOINT_UI_PROXY" != off ]; then
  case " ${SPARK_SUBMIT_OPTS:-} " in
    *" -Dspark.ui.reverseProxy="*) ;;
    *)
      SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }-Dspark.ui.reverseProxy=true"
      [ "$ENTRYPOINT_UI_PROXY" = on ] || SPARK_SUBMIT_OPTS="$SPARK_SUBMIT_OPTS -Dspark.ui.reverseProxyUrl=$ENTRYPOINT_UI_PROXY"
      export SPARK_SUBMIT_OPTS
      ;;
  esac
fi
