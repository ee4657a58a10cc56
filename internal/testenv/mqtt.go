package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const howToMQTT = `no MQTT broker for the tests: install Debian's mosquitto (apt-get install mosquitto;
'make test' installs it under CI when it runs as root), or set MOSQUITTO to its path`

// MQTT starts a real mosquitto broker for one test on a free loopback port, and returns its
// URL (tcp://127.0.0.1:PORT). The broker stops when the test ends. Without mosquitto the test
// fails under CI=true and is skipped, with instructions, elsewhere.
func MQTT(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("MOSQUITTO")
	if bin == "" {
		for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
			if found, err := exec.LookPath(p); err == nil {
				bin = found
				break
			}
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(howToMQTT)
		}
		tb.Skip(howToMQTT)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)), 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	logs := &tbWriter{tb: tb}
	tb.Cleanup(logs.stop) // registered first, so it runs after the broker is stopped
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start mosquitto: %v", err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "tcp://" + addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mosquitto did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
