package socket

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// childVar makes the test binary act as the child: it serves its pid on
// the socket it inherited.
const childVar = "SURGE_SOCKET_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "" {
		ln, err := Listen(os.Getenv, "127.0.0.1:1") // the address must not be used
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(2)
		}
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, strconv.Itoa(os.Getpid()))
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestChildServesTheSocketItWasHanded: the parent binds a port, hands it
// to a child, and calls to the port reach the child.
func TestChildServesTheSocketItWasHanded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childVar+"=1")
	cmd.Stderr = os.Stderr
	f, err := Pass(cmd, l.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	resp, err := http.Get("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("port %s answered %q, want the child's pid %d", addr, body, cmd.Process.Pid)
	}
}

func TestListenWithoutInheritedSocket(t *testing.T) {
	ln, err := Listen(func(string) string { return "" }, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func TestListenRefusesABadDescriptor(t *testing.T) {
	for _, v := range []string{"x", "1", "99"} {
		if ln, err := Listen(func(string) string { return v }, "127.0.0.1:0"); err == nil {
			ln.Close()
			t.Errorf("%s=%s: no error", FDVar, v)
		}
	}
}
