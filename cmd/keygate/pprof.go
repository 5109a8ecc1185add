package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
)

// pprofHandler serves Go's profiles (/debug/pprof/...) for
// KEYGATE_PPROF_LISTEN: off unless set, on a listener of its own and
// without authentication, so it must be a loopback address. make load
// takes its CPU profiles there (LOAD_PROFILE=1).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// checkPprofListen accepts "" (off) or a loopback host:port: the profiles
// show the process's memory and must never face a network.
func checkPprofListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("must be a loopback address such as 127.0.0.1:6060")
	}
	return nil
}
