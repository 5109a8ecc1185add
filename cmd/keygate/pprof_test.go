package main

import "testing"

func TestPprofListenOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		":6060": false, "0.0.0.0:6060": false, "192.0.2.1:6060": false, "127.0.0.1": false,
	} {
		if err := checkPprofListen(addr); (err == nil) != ok {
			t.Errorf("checkPprofListen(%q) = %v, want accepted %v", addr, err, ok)
		}
	}
}
