// ttrpc-peer: the Go side of husk's ttrpc interop tests and benchmark, built against
// Debian's github.com/containerd/ttrpc (1.1.1) in GOPATH mode, offline.
//
//	ttrpc-peer server -addr PATH         serve husk.test.Echo until killed; prints "ready"
//	ttrpc-peer client -addr PATH CASE... run interop cases against a server, exit 1 on failure
//	ttrpc-peer bench -addr PATH [-n N] [-c C] [-size B]
//	                                     echo load; prints "rps=… p50_us=… p99_us=…"
package main

import (
	"flag"
	"fmt"
	"os"
)

// raw is a protobuf message that is just its own bytes: ttrpc 1.1.1's codec takes any
// gogo proto.Message, and gogo's Marshal/Unmarshal use the Marshaler/Unmarshaler methods
// when present, so payloads pass through untouched and no generated code is needed.
type raw struct{ b []byte }

func (m *raw) Reset()                   { m.b = nil }
func (m *raw) String() string           { return fmt.Sprintf("raw(%d bytes)", len(m.b)) }
func (m *raw) ProtoMessage()            {}
func (m *raw) Marshal() ([]byte, error) { return m.b, nil }
func (m *raw) Unmarshal(b []byte) error {
	m.b = append([]byte(nil), b...)
	return nil
}

const service = "husk.test.Echo"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ttrpc-peer server|client|bench -addr PATH ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "", "unix socket path")
	n := fs.Int("n", 100000, "bench: number of calls")
	c := fs.Int("c", 64, "bench: concurrent calls")
	size := fs.Int("size", 64, "bench: payload bytes")
	_ = fs.Parse(os.Args[2:])
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "-addr is required")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = serve(*addr)
	case "client":
		err = runCases(*addr, fs.Args())
	case "bench":
		err = bench(*addr, *n, *c, *size)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ttrpc-peer:", err)
		os.Exit(1)
	}
}
