// Command agent plays, for the ECS end-to-end test, the two things an ECS
// instance gives a task from outside the task's containers: the task
// metadata endpoint v4 (what the ECS container agent serves at
// 169.254.170.2) over HTTP, and the VPC resolver with the Cloud Map
// private namespace's records over DNS. With -pause it is the task's
// pause container instead, which holds the awsvpc network namespace and
// exits 0 on SIGTERM. With -instance it plays the port mappings of one
// EC2 instance in bridge mode: it listens on the instance's host ports and
// copies each connection to the container port the state file maps it to.
//
// It serves whatever the state file says at the moment of each request,
// so the test changes tasks and records by rewriting that file (write and
// rename). The file is
//
//	{"containers": {"<token>": {...v4 container object...}},
//	 "tasks":      {"<token>": {...v4 task object...}},
//	 "records":    ["<zone-file line>", ...],
//	 "instances":  {"<instance>": {"<host port>": "<container ip:port>"}}}
//
// and answers GET /v4/<token> (the container), /v4/<token>/task and
// /v4/<token>/taskWithTags (its task). DNS answers come from records only,
// by name and type as Route 53 answers for Cloud Map: a name with records
// of other types only is NODATA (an awsvpc service name has its SRV and A
// records side by side, a bridge-mode one SRV only), any other name is
// NXDOMAIN: nothing is forwarded.
//
// Built with CGO_ENABLED=0 and bind-mounted into a container of the
// test's network, so it runs on any image.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

type state struct {
	Containers map[string]json.RawMessage   `json:"containers"`
	Tasks      map[string]json.RawMessage   `json:"tasks"`
	Records    []string                     `json:"records"`
	Instances  map[string]map[string]string `json:"instances"`
}

func main() {
	statePath := flag.String("state", "/state/state.json", "state file")
	httpAddr := flag.String("http", ":80", "task metadata listen address")
	dnsAddr := flag.String("dns", ":53", "DNS listen address (UDP and TCP)")
	pause := flag.Bool("pause", false, "be a pause container: wait for SIGTERM, exit 0")
	instance := flag.String("instance", "", "be this instance's host ports (with -ports)")
	ports := flag.String("ports", "", "host ports of -instance, comma-separated")
	flag.Parse()
	read := func() (state, error) {
		var s state
		b, err := os.ReadFile(*statePath)
		if err != nil {
			return s, err
		}
		return s, json.Unmarshal(b, &s)
	}
	if *pause {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		return
	}
	if *instance != "" {
		for _, p := range strings.Split(*ports, ",") {
			ln, err := net.Listen("tcp", ":"+p)
			if err != nil {
				log.Fatal(err)
			}
			go hostPort(ln, func() (string, error) {
				s, err := read()
				if err != nil {
					return "", err
				}
				target, ok := s.Instances[*instance][p]
				if !ok {
					return "", fmt.Errorf("instance %s: host port %s is mapped to no container", *instance, p)
				}
				return target, nil
			})
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		return
	}

	http.HandleFunc("/v4/", func(w http.ResponseWriter, r *http.Request) {
		s, err := read()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		token, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v4/"), "/")
		var body json.RawMessage
		var ok bool
		switch rest {
		case "":
			body, ok = s.Containers[token]
		case "task", "taskWithTags":
			body, ok = s.Tasks[token]
		}
		if !ok {
			http.Error(w, fmt.Sprintf("no metadata for %q", r.URL.Path), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})

	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		msg := new(dns.Msg)
		msg.SetReply(r)
		msg.Authoritative = true
		s, err := read()
		if err != nil || len(r.Question) != 1 {
			msg.Rcode = dns.RcodeServerFailure
			w.WriteMsg(msg)
			return
		}
		q := r.Question[0]
		byName := map[string][]dns.RR{}
		for _, line := range s.Records {
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				log.Printf("record %q: %v", line, err)
				continue
			}
			n := strings.ToLower(rr.Header().Name)
			byName[n] = append(byName[n], rr)
		}
		rrs, known := byName[strings.ToLower(q.Name)]
		if !known {
			msg.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype != q.Qtype {
				continue
			}
			msg.Answer = append(msg.Answer, rr)
			if srv, ok := rr.(*dns.SRV); ok {
				msg.Extra = append(msg.Extra, byName[strings.ToLower(srv.Target)]...)
			}
		}
		w.WriteMsg(msg)
	})
	errs := make(chan error, 3)
	for _, netw := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: *dnsAddr, Net: netw, Handler: handler}
		go func() { errs <- srv.ListenAndServe() }()
	}
	go func() { errs <- http.ListenAndServe(*httpAddr, nil) }()
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		os.Exit(0)
	}()
	log.Fatal(<-errs)
}

// hostPort copies each connection accepted on ln to the container address
// target names at that moment, as Docker's port mapping does.
func hostPort(ln net.Listener, target func() (string, error)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			addr, err := target()
			if err != nil {
				log.Print(err)
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				log.Print(err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}
