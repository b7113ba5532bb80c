// Package s3_test proves the S3A images (make images-s3: hadoop-aws and
// the AWS SDK bundle its POM names, beside Spark's jars) against a real
// S3-compatible server, moto's, in a container built from the base: a
// Spark Connect client writes Parquet to s3a:// with tasks on every worker
// and reads it back; the objects are in the bucket; the class-data
// archive, written again with the new jars, is still in use; and the
// credentials, given to the Connect server as the AWS variables Spark
// reads, show in no log line, explain output or command line.
package s3_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestS3A(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "s3a")
	prefix := e2e.Name("s3")
	res := e2e.NewResources(t, prefix)
	version := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	tag := version + "-s3"
	// The script prints the image's name last, after what it did.
	built := strings.Fields(e2e.Run(t, "bash", filepath.Join(e2e.Root, "scripts", "moto-image.sh"), "snufkin/spark-base:"+version))
	moto := built[len(built)-1]
	stamp := strconv.Itoa(os.Getpid()) + strconv.FormatInt(time.Now().UnixNano(), 36)
	accessKey, secretKey := "AKIASSPARK"+stamp, "s3-secret-"+stamp

	network := prefix + "-net"
	res.Network(network)
	e2e.Run(t, "docker", "network", "create", network)
	s3, master, connect := prefix+"-s3", prefix+"-spark-master", prefix+"-connect"
	workers := []string{prefix + "-worker-1", prefix + "-worker-2"}
	for _, c := range append([]string{s3, master, connect}, workers...) {
		res.Container(c)
	}
	e2e.Run(t, "docker", "run", "-d", "--name", s3, "--network", network, "--network-alias", "s3", moto)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "--network", network, "--hostname", "spark-master",
		"--network-alias", "spark-master", "-p", "127.0.0.1::8080", "--stop-timeout", "10", "snufkin/spark-master:"+tag)
	for _, w := range workers {
		e2e.Run(t, "docker", "run", "-d", "--name", w, "--network", network, "--stop-timeout", "10", "snufkin/spark-worker:"+tag)
	}
	// The endpoint, path-style addressing and region are Hadoop settings
	// (spark.hadoop.*); the credentials are the AWS variables, which Spark
	// copies into the driver's Hadoop configuration, and from there they
	// reach the executors with each job.
	opts := strings.Join([]string{
		"-Dspark.hadoop.fs.s3a.endpoint=http://s3:5000",
		"-Dspark.hadoop.fs.s3a.path.style.access=true",
		"-Dspark.hadoop.fs.s3a.endpoint.region=us-east-1",
	}, " ")
	e2e.Run(t, "docker", "run", "-d", "--name", connect, "--network", network,
		"-e", "AWS_ACCESS_KEY_ID="+accessKey, "-e", "AWS_SECRET_ACCESS_KEY="+secretKey, "-e", "SPARK_SUBMIT_OPTS="+opts,
		"-p", "127.0.0.1::"+e2e.ConnectPort, "--stop-timeout", "10", "snufkin/spark-worker:"+tag, "connect")

	bucket := "spark-" + stamp
	py := `import boto3, sys
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:5000", region_name="us-east-1",
                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
if sys.argv[1] == "create":
    s3.create_bucket(Bucket=sys.argv[4])
else:
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[4]) for o in p.get("Contents", [])]
    print("objects", sum(k.endswith(".parquet") for k in keys), len(keys))
`
	created := false
	e2e.Poll(time.Minute, time.Second, func(time.Duration) bool {
		_, err := e2e.Try("docker", "exec", s3, "python3", "-c", py, "create", accessKey, secretKey, bucket)
		created = err == nil
		return created
	})
	if !created {
		t.Fatalf("no bucket on the S3 server: %s", e2e.Run(t, "docker", "logs", s3))
	}

	e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), len(workers), 3*time.Minute)
	if !e2e.WaitConnectReady(t, connect, 3*time.Minute) {
		m.OK("parquet", false)
		t.FailNow()
	}
	remote := "sc://localhost:" + e2e.Published(t, connect, e2e.ConnectPort+"/tcp")
	path := "s3a://" + bucket + "/runs/" + stamp
	out, err := e2e.TryEnv(os.Environ(), e2e.ClientPython(t), filepath.Join(e2e.Root, "scripts", "s3job.py"),
		"--remote", remote, "--path", path, "--workers", strconv.Itoa(len(workers)))
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "s3: ") {
			t.Log(l)
		}
	}
	ok := err == nil && strings.Contains(out, "s3: OK")
	if !ok {
		t.Errorf("s3job.py did not report the checked result (%v):\n%s", err, e2e.JobErrors(out))
		logs, _ := e2e.Try("docker", "logs", connect)
		t.Logf("connect server:\n%s", e2e.JobErrors(logs))
	}
	listed := strings.Fields(e2e.Run(t, "docker", "exec", s3, "python3", "-c", py, "list", accessKey, secretKey, bucket))
	parquet := 0
	if len(listed) == 3 {
		parquet, _ = strconv.Atoi(listed[1])
	}
	if parquet == 0 {
		t.Errorf("the bucket holds no Parquet file: %q", listed)
	}
	if ok && parquet > 0 {
		m.Set("parquet", "ok("+strconv.Itoa(parquet)+"-objects,every-worker)")
	} else {
		m.OK("parquet", false)
	}
	m.OK("class-archive", e2e.CheckClassArchive(t, workers[0], "worker"))

	leaked := false
	for c, role := range map[string]string{master: "master", workers[0]: "worker", connect: "connect"} {
		for what, text := range e2e.Exposures(c, role) {
			if strings.Contains(text, secretKey) {
				leaked = true
				t.Errorf("%s: the S3 secret key is in the %s", c, what)
			}
		}
	}
	m.OK("secret-hidden", !leaked)

	e2e.Run(t, "docker", "stop", "-t", "10", connect, workers[1], workers[0], master)
	m.OK("stop", e2e.ExitCodes(t, []string{connect, workers[1], workers[0], master}))
}
