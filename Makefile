# swarming-spark: `make up` brings up the classic compose cluster and runs a
# job from the host; `make test` runs every test. `make help` lists targets.
SHELL := /bin/bash
include scripts/versions.env
SPARK_VERSION ?= $(SPARK_VERSION_DEFAULT)
# The base's Debian suite: bookworm (Python 3.11, Java 17) or trixie (Python
# 3.13, Java 21); a driver's Python must match. Only bookworm's tags carry no
# suite.
DEBIAN_SUITE ?= bookworm
GO ?= go
# The images' architecture: amd64 or arm64 (Debian's and Go's names), the
# host's by default. Each image is also tagged VERSION-ARCH; another
# architecture than the host's gets only that tag (and needs the host's
# binfmt handler: make host installs qemu-user-static).
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || $(GO) env GOARCH)
ARCH ?= $(HOST_ARCH)
ARCH_SUFFIX := $(if $(filter-out $(HOST_ARCH),$(ARCH)),-$(ARCH))
TAG := $(SPARK_VERSION)$(if $(filter-out bookworm,$(DEBIAN_SUITE)),-$(DEBIAN_SUITE))$(ARCH_SUFFIX)
BASE_IMAGE ?= snufkin/spark-base:$(TAG)
export DEBIAN_SUITE ARCH
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 10s

.DEFAULT_GOAL := help
.PHONY: help host base images up down job test check unit bench stress fuzz

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

host: ## install what is missing (docker, compose, mmdebstrap...) and start dockerd
	@bash scripts/host-setup.sh

base: host ## build the local base image (Debian of DEBIAN_SUITE, its Java, Spark from pyspark), if changed
	@SPARK_VERSION=$(SPARK_VERSION) BASE_IMAGE=$(BASE_IMAGE) bash scripts/build-base.sh

images: base ## build the static entrypoint and snufkin/spark-master, snufkin/spark-worker on the local base (tagged latest, the version and VERSION-ARCH; ARCH=arm64 for arm64, tagged VERSION-arm64 only)
	@GO=$(GO) bash scripts/build-images.sh $(BASE_IMAGE) $(if $(filter $(HOST_ARCH),$(ARCH)),latest $(TAG) $(TAG)-$(ARCH),$(TAG))

# Spark's other line: its own base and the two images tagged
# :$(SPARK_VERSION_35) only (:latest stays on the default line), for the
# end-to-end path that runs it.
.PHONY: images-35 images-trixie images-s3 bench-cluster soak
images-35: host ## the two images on the Spark 3.5 line too (SPARK_VERSION_35 in scripts/versions.env; that tag only)
	@SPARK_VERSION=$(SPARK_VERSION_35) DEBIAN_SUITE=bookworm BASE_IMAGE=snufkin/spark-base:$(SPARK_VERSION_35)$(ARCH_SUFFIX) bash scripts/build-base.sh
	@GO=$(GO) bash scripts/build-images.sh snufkin/spark-base:$(SPARK_VERSION_35)$(ARCH_SUFFIX) $(SPARK_VERSION_35)$(ARCH_SUFFIX)

# The default line on the other Debian suite, tagged :$(SPARK_VERSION_DEFAULT)-trixie
# only, for the end-to-end path that runs it.
images-trixie: host ## the two images of the default line on Debian trixie too (Python 3.13, Java 21; that tag only)
	@SPARK_VERSION=$(SPARK_VERSION_DEFAULT) DEBIAN_SUITE=trixie BASE_IMAGE=snufkin/spark-base:$(SPARK_VERSION_DEFAULT)-trixie$(ARCH_SUFFIX) bash scripts/build-base.sh
	@GO=$(GO) bash scripts/build-images.sh snufkin/spark-base:$(SPARK_VERSION_DEFAULT)-trixie$(ARCH_SUFFIX) $(SPARK_VERSION_DEFAULT)-trixie$(ARCH_SUFFIX)

# The S3A build option: the base with hadoop-aws (the version of Spark's
# hadoop-client-api jar) and the jars its POM names, and the two images on
# it tagged :$(TAG)-s3 only.
images-s3: base ## the two images with Hadoop's S3A connector (s3a://), tagged VERSION-s3 (SPARK_VERSION picks the line)
	@bash scripts/build-s3-base.sh $(BASE_IMAGE) $(BASE_IMAGE)-s3
	@GO=$(GO) bash scripts/build-images.sh $(BASE_IMAGE)-s3 $(TAG)-s3

# The links path on the trixie images: its own target, as make test fills
# the hour this machine allows it.
.PHONY: test-trixie
test-trixie: images-trixie ## the links path on the trixie images (Python 3.13, Java 21), outside make test
	@bash scripts/cluster.sh venv
	@bash scripts/gotest.sh -tags trixie -count=1 -p 1 -timeout 20m -run TestDockerRunLinksTrixie ./images/links/

# The default line for arm64, built and tested here under QEMU's user-mode
# emulation: its own targets, as an emulated JVM is about ten times slower.
.PHONY: images-arm64 test-arm64
images-arm64: ## the two images of the default line for arm64 (tagged VERSION-arm64), under qemu-user-static on another host
	@$(MAKE) --no-print-directory images ARCH=arm64

test-arm64: images-arm64 ## the arm64 smoke test under emulation: the images' architecture, version, explain, doctor, a master and a worker ALIVE, a job
	@bash scripts/gotest.sh -tags emulated -count=1 -p 1 -timeout 40m ./images/arm64/

soak: images ## 50 short applications in a row against one cluster: every result checked, the daemons' memory and descriptors and the worker's directory after the first and the last
	@bash scripts/soak.sh 50

bench-cluster: images ## cluster formation (N = 1, 3, 6 workers), master-restart recovery against the bare JVMs, the Connect server (ready, first query), and the Swarm stack on three engines against one, into BENCHMARKS.md
	@bash scripts/bench-cluster.sh
	@bash scripts/bench-connect.sh
	@bash scripts/bench-nodes.sh

up: images ## start the compose cluster with 3 workers and run the sample job
	@bash scripts/cluster.sh venv
	@bash scripts/cluster.sh up

down: ## remove the compose cluster
	@bash scripts/cluster.sh down

job: ## run the sample job against the running cluster
	@bash scripts/cluster.sh job

check: ## gofmt, go vet, staticcheck, and the build on a developer's Mac (the supervisor is a stub there)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=darwin $(GO) build ./...
	GOOS=darwin $(GO) vet ./discovery/... ./entrypoint/etcfiles/... ./entrypoint/settings/...
	$(GO) vet -tags emulated ./images/arm64/
	$(GO) vet -tags trixie ./images/links/
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

test: check images images-35 images-s3 ## everything: checks, unit, PID-1, fuzz seeds and end-to-end tests (one package at a time: the e2e clusters share 2 cores), then every fuzz target for 5s
	@bash scripts/cluster.sh venv
	@bash scripts/gotest.sh -race -count=1 -p 1 -timeout 45m ./...
	@bash scripts/fuzz.sh 5s

unit: ## unit tests only (no docker)
	$(GO) test -short -race ./...

bench: ## benchmark the supervisor against tini and dumb-init into BENCHMARKS.md
	@bash scripts/bench.sh

stress: ## 10 000 supervised runs with random exit codes and signals while orphans die in bursts
	set -o pipefail; SUPTEST_STRESS=$${STRESS_RUNS:-10000} $(GO) test -count=1 -timeout 90m -run TestStormExitStatus -v ./entrypoint/supervisor/ | grep -E 'rounds|round [0-9]|^(---|ok|FAIL)'

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@bash scripts/fuzz.sh $(FUZZTIME)
